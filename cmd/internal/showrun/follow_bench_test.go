package showrun

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tapwall/internal/hubtest"

	"github.com/rs/zerolog"

	"tapwall/game"
	"tapwall/netsync/hub"
)

// denseScript is eight lanes of fingers moving at 60 Hz: the dense input the follow stream carries.
func denseScript(ticks int64) []game.TickInput {
	var out []game.TickInput
	out = append(out, game.TickInput{Tick: 1, Input: game.Input{Kind: game.KindStart}})
	for t := int64(2); t < ticks; t++ {
		for lane := int32(0); lane < 8; lane++ {
			k := game.KindMove
			switch t % 30 {
			case 2:
				k = game.KindDown
			case 29:
				k = game.KindUp
			}
			out = append(out, game.TickInput{Tick: t, Input: game.Input{Kind: k, Contact: lane + 1, XMM: lane*1000 + 100 + int32(t%400), YMM: 200 + int32(t%3000)}})
		}
	}
	return out
}

const benchLanes = "[[lanes]]\nname=\"a\"\nwidth_mm=1000\nheight_mm=4000\n[[lanes]]\nname=\"b\"\nx_mm=1000\nwidth_mm=1000\nheight_mm=4000\n" +
	"[[lanes]]\nname=\"c\"\nx_mm=2000\nwidth_mm=1000\nheight_mm=4000\n[[lanes]]\nname=\"d\"\nx_mm=3000\nwidth_mm=1000\nheight_mm=4000\n" +
	"[[lanes]]\nname=\"e\"\nx_mm=4000\nwidth_mm=1000\nheight_mm=4000\n[[lanes]]\nname=\"f\"\nx_mm=5000\nwidth_mm=1000\nheight_mm=4000\n" +
	"[[lanes]]\nname=\"g\"\nx_mm=6000\nwidth_mm=1000\nheight_mm=4000\n[[lanes]]\nname=\"h\"\nx_mm=7000\nwidth_mm=1000\nheight_mm=4000\n"

// BenchmarkFollowerLag measures how long after the primary steps a tick its standby has stepped it
// too, over loopback, with eight lanes of moving fingers and autoplay: one op is one tick.
func BenchmarkFollowerLag(b *testing.B) {
	cfg := "[round]\ncountdown_seconds = 0\nseconds = 86400\n[show]\nattract = false\n" + benchLanes
	ticks := int64(b.N) + 100
	p := newBenchHarness(b, cfg, func(o *Options) { o.Autoplay = true; o.Script = denseScript(ticks); o.JournalDir = "" })
	srv := httptest.NewServer(p.r.FollowHandler())
	defer srv.Close()
	s := newBenchHarness(b, cfg, func(o *Options) {
		o.Autoplay = true
		o.JournalDir = ""
		o.Follow = "ws" + strings.TrimPrefix(srv.URL, "http") + "/follow"
	})
	p.step(10)
	benchCatchUp(b, p, s)
	lags := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.step(1)
		t0 := time.Now()
		benchCatchUp(b, p, s)
		lags = append(lags, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99_ms")
}

// BenchmarkScoreAckLatency measures a score's way from the tick that made it to the backend's
// acknowledgement (the outbox empty again: fsynced, sent, stored, acked), with and without a
// standby attached: the standby's acknowledgement of the tick is what the primary waits for.
func BenchmarkScoreAckLatency(b *testing.B) {
	for _, withStandby := range []bool{false, true} {
		name := "no_standby"
		if withStandby {
			name = "with_standby"
		}
		b.Run(name, func(b *testing.B) {
			url := benchHub(b)
			cfg := "[round]\ncountdown_seconds = 0\nseconds = 86400\n[show]\nattract = false\n"
			var script []game.TickInput
			script = append(script, game.TickInput{Tick: 1, Input: game.Input{Kind: game.KindStart}})
			p := newBenchHarness(b, cfg, func(o *Options) {
				o.Script = script
				o.JournalDir = ""
				o.Backend = &BackendOptions{URL: url, Wall: "wall-1", Outbox: filepath.Join(b.TempDir(), "ob")}
			})
			var s *benchHarness
			if withStandby {
				srv := httptest.NewServer(p.r.FollowHandler())
				defer srv.Close()
				s = newBenchHarness(b, cfg, func(o *Options) {
					o.JournalDir = ""
					o.Follow = "ws" + strings.TrimPrefix(srv.URL, "http") + "/follow"
				})
			}
			p.step(5)
			if s != nil {
				benchCatchUp(b, p, s)
				go s.followLoop(p)
				defer s.stopLoop()
			}
			waitWelcome(b, p)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.r.loop.PushAt(p.r.loop.Next(), game.Input{Kind: game.KindAdjust, Lane: int8(i % 4), Value: 1, Source: game.SourceConsole})
				t0 := time.Now()
				p.step(1)
				deadline := t0.Add(10 * time.Second)
				for p.r.backend.outbox.Depth() > 0 || p.r.gate.heldN() > 0 {
					if time.Now().After(deadline) {
						b.Fatal("a score was not acknowledged within 10 s")
					}
					time.Sleep(50 * time.Microsecond) // leave the cores to the goroutines measured
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			p.r.Close(5 * time.Second)
		})
	}
}

// benchHarness is a runner driven tick by tick on a fake clock, for benchmarks.
type benchHarness struct {
	r     *Runner
	clock *fakeClock
	mu    sync.Mutex
	stop  chan struct{}
	done  chan struct{}
}

func newBenchHarness(b *testing.B, cfgBody string, tweak func(*Options)) *benchHarness {
	cfg, err := game.ParseConfig([]byte(cfgBody), "c.toml")
	if err != nil {
		b.Fatal(err)
	}
	h := &benchHarness{clock: &fakeClock{}}
	h.clock.us.Store(1_000_000)
	opt := Options{Config: &cfg, Clock: h.clock.now, Log: zerolog.Nop(), Start: time.Now()}
	if tweak != nil {
		tweak(&opt)
	}
	if h.r, err = New(opt); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	h.r.Start(ctx)
	h.frame()
	return h
}

func (h *benchHarness) frame() {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.now()
	h.r.Frame(now, nil)
	h.r.Drawn(now, 1, nil)
}

// step advances the clock by n ticks, one frame each.
func (h *benchHarness) step(n int) {
	for i := 0; i < n; i++ {
		h.clock.us.Add(16_667)
		h.frame()
	}
}

// followLoop keeps a standby's frames going on its own goroutine (as its window would).
func (h *benchHarness) followLoop(p *benchHarness) {
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	defer close(h.done)
	for {
		select {
		case <-h.stop:
			return
		default:
		}
		h.clock.us.Store(p.clock.now())
		h.frame()
		time.Sleep(2 * time.Millisecond) // a window's frame loop waits for its next frame; it does not spin
	}
}

func (h *benchHarness) stopLoop() { close(h.stop); <-h.done }

func benchCatchUp(b *testing.B, p, s *benchHarness) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.frame()
		s.clock.us.Store(p.clock.now())
		s.frame()
		if s.r.role == RoleDiverged {
			b.Fatal("the standby diverged")
		}
		if s.r.loop != nil && s.r.show.Tick() == p.r.show.Tick() {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the standby is at tick %d, the primary at %d", s.r.show.Tick(), p.r.show.Tick())
		}
		runtime.Gosched()
	}
}

func waitWelcome(b *testing.B, p *benchHarness) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-p.r.backend.client.Welcomed():
			return
		default:
		}
		if time.Now().After(deadline) {
			b.Fatal("no welcome from the backend")
		}
		p.frame()
		runtime.Gosched()
	}
}

// benchHub starts a real scorehub hub on loopback and returns its /ws URL.
func benchHub(b *testing.B) string { return hubtest.Start(b, hub.HubConfig{}).URL }
