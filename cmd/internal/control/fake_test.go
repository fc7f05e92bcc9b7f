package control

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// fakeShow is a Show for the tests: a settable Status, the console inputs it was given (in
// order, on a channel), and scripted answers.
type fakeShow struct {
	mu     sync.Mutex
	st     Status
	tick   int64
	err    error // returned by Input when set
	block  bool  // Input waits for its context to end
	inputs chan string
	reg    *prometheus.Registry
	ticks  prometheus.Counter
}

func newFakeShow() *fakeShow {
	f := &fakeShow{inputs: make(chan string, 64), reg: prometheus.NewRegistry()}
	f.ticks = prometheus.NewCounter(prometheus.CounterOpts{Name: "tapwall_ticks_total", Help: "ticks stepped"})
	f.reg.MustRegister(f.ticks)
	f.st = Status{Role: "primary", Wall: "wall-1", Epoch: 1, Round: 3, Phase: "running", Tick: 1200, PID: 4242,
		TickRate: 60, FPS: 60, TPS: 60, WallMM: [2]int32{8000, 4000},
		Lanes: []Lane{
			{Index: 0, Name: "lane 1", Rect: [4]int32{0, 0, 2000, 4000}, LastAgoMS: -1},
			{Index: 1, Name: "lane 2", Rect: [4]int32{2000, 0, 2000, 4000}, LastAgoMS: -1},
		}}
	return f
}

func (f *fakeShow) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st
	st.Tick = f.tick + f.st.Tick
	return st
}

func (f *fakeShow) set(fn func(*Status)) {
	f.mu.Lock()
	fn(&f.st)
	f.mu.Unlock()
}

// answer sets how Input answers from now on: err, or waiting for its context when block.
func (f *fakeShow) answer(err error, block bool) {
	f.mu.Lock()
	f.err, f.block = err, block
	f.mu.Unlock()
}

func (f *fakeShow) Input(ctx context.Context, line []byte) (int64, error) {
	f.mu.Lock()
	err, block := f.err, f.block
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	f.tick++
	t := f.st.Tick + f.tick
	f.mu.Unlock()
	f.ticks.Inc()
	f.inputs <- string(line)
	return t, nil
}

func (f *fakeShow) Metrics() http.Handler { return promhttp.HandlerFor(f.reg, promhttp.HandlerOpts{}) }

// next returns the next input line the show was given, failing after a deadline.
func (f *fakeShow) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-f.inputs:
		return l
	case <-time.After(5 * time.Second):
		t.Fatal("the show got no input within 5 s")
		return ""
	}
}

// none checks that the show has been given no input.
func (f *fakeShow) none(t *testing.T) {
	t.Helper()
	select {
	case l := <-f.inputs:
		t.Fatalf("the show got an input it must not: %s", l)
	default:
	}
}

// standbyShow is a fakeShow that can be promoted (Promoter).
type standbyShow struct {
	*fakeShow
	err error
}

func (s standbyShow) Promote(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	s.set(func(st *Status) { st.Role, st.Epoch, st.Following = "primary", st.Epoch+1, "" })
	return nil
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// started is a running server for one test; it is stopped (and checked to stop) at cleanup.
type started struct {
	*Server
	show   Show
	log    *syncBuffer
	cancel context.CancelFunc
	base   string // http://ADDR
}

// start starts a server with cfg (Addr 127.0.0.1:0 and a fakeShow unless given); tweaks change
// the server before it starts.
func start(t *testing.T, cfg Config, tweaks ...func(*Server)) *started {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Show == nil {
		cfg.Show = newFakeShow()
	}
	logb := &syncBuffer{}
	cfg.Log = zerolog.New(logb).Level(zerolog.DebugLevel)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tw := range tweaks {
		tw(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	st := &started{Server: s, show: cfg.Show, log: logb, cancel: cancel, base: "http://" + s.Addr()}
	t.Cleanup(func() { st.stop(t) })
	return st
}

// stop ends the server and waits (bounded) until it has stopped.
func (s *started) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	done := make(chan struct{})
	go func() { s.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the control server did not stop within 10 s of its context ending")
	}
}

// req is one HTTP request for do.
type req struct {
	method, path, body string
	header             map[string]string
	host               string
}

// do sends r and returns the status code and body.
func (s *started) do(t *testing.T, r req) (int, string) {
	t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	hr, err := http.NewRequest(r.method, s.base+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.host != "" {
		hr.Host = r.host
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends one input line to /api/input with JSON content type and the given headers.
func (s *started) post(t *testing.T, body string, header map[string]string) (int, string) {
	t.Helper()
	return s.do(t, req{method: "POST", path: "/api/input", body: body, header: header})
}

// decodeError decodes an apiError body.
func decodeError(t *testing.T, body string) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" || e.Message == "" {
		t.Fatalf("error body %q is not {\"error\",\"message\"}: %v", body, err)
	}
	return e
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noLeak checks that the goroutine count returns to base (within a few of net/http's own).
func noLeak(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, %d before the server: leaked:\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
