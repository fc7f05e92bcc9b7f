package hub

import (
	"context"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"tapwall/netsync"
	"testing"
	"time"
)

// proxy is a TCP proxy on loopback between the client and the hub. It can cut every connection
// after a random number of bytes (mid-frame included) and delay each direction's data.
type proxy struct {
	ln      net.Listener
	target  string
	cutMax  int64                // 0: never cut; else cut after rand(1..cutMax) bytes in either direction
	delayUp func() time.Duration // client -> hub
	delayDn func() time.Duration // hub -> client
	cuts    atomic.Int64
	wg      sync.WaitGroup
	rng     *rand.Rand
	mu      sync.Mutex
}

func startProxy(t testing.TB, target string, p *proxy) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.ln, p.target = ln, target
	if p.rng == nil {
		p.rng = rand.New(rand.NewPCG(1, 2))
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return ln.Addr().String()
}

func (p *proxy) budget() int64 {
	if p.cutMax == 0 {
		return 1 << 62
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return 1 + p.rng.Int64N(p.cutMax)
}

func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	left := atomic.Int64{}
	left.Store(p.budget())
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn, delay func() time.Duration) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 4096)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if delay != nil {
					time.Sleep(delay()) // the network's latency, not a test's synchronisation
				}
				if rest := left.Add(-int64(n)); rest < 0 {
					dst.Write(buf[:max(n+int(rest), 0)]) // part of a frame, then the line goes dead
					p.cuts.Add(1)
					return
				}
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(s, c, p.delayUp)
	go pipe(c, s, p.delayDn)
	<-done
	c.Close()
	s.Close()
	<-done
}

func TestTenThousandEventsThroughACuttingProxy(t *testing.T) {
	h := startHub(t, HubConfig{})
	px := &proxy{cutMax: 40_000}
	addr := startProxy(t, strings.TrimPrefix(strings.TrimSuffix(h.url, "/ws"), "ws://"), px)
	c := startClient(t, "ws://"+addr+"/ws", "cut", "", t.TempDir(), func(cc *netsync.ClientConfig) { cc.MaxBackoff = 50 * time.Millisecond })
	const n = 10_000
	for s := uint64(1); s <= n; s++ { // the queue holds them all: this never waits
		if err := c.outbox.Submit(genEvent("cut", 1, s)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if left := c.outbox.WaitAcked(ctx); left != 0 {
		t.Fatalf("%d events never acknowledged", left)
	}
	checkTotals(t, h.store, "cut", 1, n)
	if px.cuts.Load() < 5 || c.client.Status().Reconnects < 5 {
		t.Fatalf("only %d cuts and %d reconnects: the proxy did not test anything", px.cuts.Load(), c.client.Status().Reconnects)
	}
	t.Logf("%d connections cut mid-stream, %d reconnects", px.cuts.Load(), c.client.Status().Reconnects)
}

func TestClockSyncThroughAsymmetricDelay(t *testing.T) {
	base := time.Now()
	const trueOffset = 5_123_456 // the backend's show clock runs this far ahead of the wall's clock
	local := func() int64 { return time.Since(base).Microseconds() }
	h := startHub(t, HubConfig{Now: func() int64 { return local() + trueOffset }})
	rng := rand.New(rand.NewPCG(3, 4))
	var mu sync.Mutex
	jitter := func(max time.Duration) func() time.Duration {
		return func() time.Duration {
			mu.Lock()
			defer mu.Unlock()
			return time.Duration(rng.Int64N(int64(max)))
		}
	}
	px := &proxy{delayUp: jitter(8 * time.Millisecond), delayDn: jitter(2 * time.Millisecond)}
	addr := startProxy(t, strings.TrimPrefix(strings.TrimSuffix(h.url, "/ws"), "ws://"), px)
	c := startClient(t, "ws://"+addr+"/ws", "clk", "", t.TempDir(), func(cc *netsync.ClientConfig) {
		cc.Local = local
		cc.SyncEvery = 20 * time.Millisecond
	})
	waitFor(t, "64 time samples", 30*time.Second, func() bool { return c.client.Clock().Samples() >= netsync.ClockSamples })
	off, delay, ok := c.client.Clock().Offset()
	// A sample's error is half the difference of its two legs, so at most half its round trip: the
	// estimate must come from the quickest round trip seen (an average of the samples would be off by
	// about 1.5 ms here, the legs' mean asymmetry). 100 µs covers the stamps' own granularity.
	if !ok || abs64(off-trueOffset) > delay/2+100 {
		t.Fatalf("offset estimate %d µs (best delay %d µs), truth %d: off by %d µs, want within half the best round trip", off, delay, trueOffset, off-trueOffset)
	}
	t.Logf("offset error %d µs, best round trip %d µs", off-trueOffset, delay)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
