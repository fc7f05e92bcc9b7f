package hub

import (
	"context"
	"net"
	"net/http"
	"sort"
	"sync"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkAckedThroughput is events per second end to end: outbox (fsynced), WebSocket on
// loopback, hub, bbolt commit (fsynced), ack back. One op is one event acknowledged.
func BenchmarkAckedThroughput(b *testing.B) {
	h := startHub(b, HubConfig{})
	c := startClient(b, h.url, "bench", "", b.TempDir(), nil)
	waitFor(b, "connected", 5*time.Second, func() bool { return c.client.Status().Connected })
	b.ReportAllocs()
	b.ResetTimer()
	for s := uint64(1); s <= uint64(b.N); s++ {
		c.outbox.SubmitWait(context.Background(), genEvent("bench", 1, s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if left := c.outbox.WaitAcked(ctx); left != 0 {
		b.Fatalf("%d not acked", left)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acked/s")
}

// BenchmarkAckLatencyAt200PerSecond sends 400 events at 200 per second (a busy round) and reports
// the latency from Submit to the ack, p50 and p99, with both fsyncs in the path.
func BenchmarkAckLatencyAt200PerSecond(b *testing.B) {
	h := startHub(b, HubConfig{})
	var mu sync.Mutex
	sent := map[uint64]time.Time{}
	var lat []time.Duration
	acked := uint64(0)
	c := startClient(b, h.url, "lat", "", b.TempDir(), func(cc *netsync.ClientConfig) {
		cc.OnAck = func(_ string, _ uint32, seq uint64) {
			now := time.Now()
			mu.Lock()
			for s := acked + 1; s <= seq; s++ {
				lat = append(lat, now.Sub(sent[s]))
			}
			acked = max(acked, seq)
			mu.Unlock()
		}
	})
	waitFor(b, "connected", 5*time.Second, func() bool { return c.client.Status().Connected })
	b.ResetTimer()
	seq := uint64(0)
	for i := 0; i < b.N; i++ {
		tick := time.NewTicker(5 * time.Millisecond)
		for k := 0; k < 400; k++ {
			<-tick.C
			seq++
			mu.Lock()
			sent[seq] = time.Now()
			mu.Unlock()
			c.outbox.Submit(genEvent("lat", 1, seq))
		}
		tick.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.outbox.WaitAcked(ctx)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		b.Fatal("no latencies measured")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
}

// echoServer is a bare gorilla/websocket echo on loopback: no outbox, no store, no fsync.
func echoServer(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			t, m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(t, m) != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String() + "/"
}

// BenchmarkEchoBaselineThroughput is the same JSON score messages echoed by a bare gorilla server,
// one reader and one writer: the ceiling the durable path is compared with.
func BenchmarkEchoBaselineThroughput(b *testing.B) {
	c, _, err := websocket.DefaultDialer.Dial(echoServer(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	done := make(chan struct{})
	go func() {
		for i := 0; i < b.N; i++ {
			if _, _, err := c.ReadMessage(); err != nil {
				break
			}
		}
		close(done)
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for s := uint64(1); s <= uint64(b.N); s++ {
		if err := c.WriteJSON(netsync.ScoreMessage(genEvent("echo", 1, s))); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "echoed/s")
}

// BenchmarkEchoBaselineLatencyAt200PerSecond is the echo's round trip at 200 messages a second.
func BenchmarkEchoBaselineLatencyAt200PerSecond(b *testing.B) {
	c, _, err := websocket.DefaultDialer.Dial(echoServer(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tick := time.NewTicker(5 * time.Millisecond)
		for k := uint64(1); k <= 400; k++ {
			<-tick.C
			t0 := time.Now()
			c.WriteJSON(netsync.ScoreMessage(genEvent("echo", 1, k)))
			if _, _, err := c.ReadMessage(); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		tick.Stop()
	}
	b.StopTimer()
	reportLatency(b, lat)
}
