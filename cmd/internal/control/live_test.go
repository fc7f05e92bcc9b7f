package control

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dialLive opens /live as a program would (no Origin unless header has one).
func dialLive(s *started, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial("ws://"+s.Addr()+"/live"+query, header)
}

// readStatus reads the next Status from a page's socket, failing after d.
func readStatus(t *testing.T, c *websocket.Conn, d time.Duration) Status {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("reading the live status: %v", err)
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("live message %q: %v", b, err)
	}
	return st
}

// TestLivePushesPeriodically: a page gets the Status at once, then every LiveInterval.
func TestLivePushesPeriodically(t *testing.T) {
	show := newFakeShow()
	s := start(t, Config{Show: show, LiveInterval: 30 * time.Millisecond})
	c, _, err := dialLive(s, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := readStatus(t, c, 2*time.Second); st.Control != s.Addr() || st.Round != 3 {
		t.Fatalf("first status: %+v", st)
	}
	show.set(func(st *Status) { st.Phase = "paused" })
	t0 := time.Now()
	for readStatus(t, c, 2*time.Second).Phase != "paused" {
		if time.Since(t0) > 2*time.Second {
			t.Fatal("the page never saw the change")
		}
	}
}

// TestLivePushesOnChange: with a long period, a console input and a promotion still reach the
// page at once.
func TestLivePushesOnChange(t *testing.T) {
	show := standbyShow{fakeShow: newFakeShow()}
	show.set(func(st *Status) { st.Role = "standby" })
	s := start(t, Config{Show: show, LiveInterval: time.Hour})
	c, _, err := dialLive(s, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := readStatus(t, c, 2*time.Second)
	if code, body := s.post(t, `{"action":"start"}`, nil); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	show.next(t)
	if st := readStatus(t, c, 2*time.Second); st.Tick != first.Tick+1 {
		t.Fatalf("after the input the page got tick %d, want %d", st.Tick, first.Tick+1)
	}
	if code, body := s.do(t, req{method: "POST", path: "/promote", body: `{}`}); code != 200 {
		t.Fatalf("promote: %d %s", code, body)
	}
	if st := readStatus(t, c, 2*time.Second); st.Role != "primary" {
		t.Fatalf("after the promotion the page got role %q", st.Role)
	}
}

// TestSlowPageDropped: a page that stops reading is dropped once a write stalls for WriteWait;
// meanwhile another page keeps getting updates and /status answers at once.
func TestSlowPageDropped(t *testing.T) {
	show := newFakeShow()
	show.set(func(st *Status) { st.Help = []string{strings.Repeat("h", 256<<10)} }) // big messages fill buffers fast
	s := start(t, Config{Show: show, LiveInterval: 50 * time.Millisecond})
	slowDialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}}
	slow, _, err := slowDialer.Dial("ws://"+s.Addr()+"/live", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	good, _, err := dialLive(s, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	pages := func() int { s.pagesMu.Lock(); defer s.pagesMu.Unlock(); return len(s.pages) }
	waitFor(t, "both pages registered", 5*time.Second, func() bool { return pages() == 2 })
	deadline := time.Now().Add(20 * time.Second)
	got := 0
	for pages() == 2 {
		if time.Now().After(deadline) {
			t.Fatal("a page that reads nothing was not dropped within 20 s")
		}
		readStatus(t, good, 2*time.Second)
		got++
		t0 := time.Now()
		if code, _ := s.do(t, req{path: "/status"}); code != 200 || time.Since(t0) > time.Second {
			t.Fatalf("/status took %v (%d) while a page is stuck", time.Since(t0), code)
		}
	}
	for range 3 { // the good page still gets updates after the drop
		readStatus(t, good, 2*time.Second)
	}
	if !strings.Contains(s.log.String(), "console page dropped") {
		t.Fatalf("the drop is not logged:\n%.2000s", s.log.String())
	}
	t.Logf("the good page read %d updates before the slow one was dropped", got)
}

// TestTooManyPages: past MaxPages a page is refused (503), not queued.
func TestTooManyPages(t *testing.T) {
	s := start(t, Config{LiveInterval: time.Hour})
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range MaxPages {
		c, _, err := dialLive(s, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	_, resp, err := dialLive(s, "", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("page %d: %v %v", MaxPages+1, err, resp)
	}
	conns[0].Close()
	waitFor(t, "a closed page to free its place", 5*time.Second, func() bool {
		c, _, err := dialLive(s, "", nil)
		if err == nil {
			conns = append(conns, c)
		}
		return err == nil
	})
}

// TestStopEndsEverything: cancelling the context closes the listener, the pages (with a close
// frame) and the followers, and every goroutine ends.
func TestStopEndsEverything(t *testing.T) {
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()
	up := websocket.Upgrader{}
	follow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		<-r.Context().Done() // a follower stream ends with the server
	})
	s := start(t, Config{Follow: follow, LiveInterval: 20 * time.Millisecond})
	var pages []*websocket.Conn
	for range 3 {
		c, _, err := dialLive(s, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pages = append(pages, c)
	}
	f, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/follow", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s.do(t, req{path: "/status"})
	s.stop(t)
	for i, c := range pages {
		var err error
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for err == nil {
			_, _, err = c.ReadMessage()
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("page %d ended with %v, want a going-away close", i, err)
		}
		c.Close()
	}
	f.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := f.ReadMessage(); err == nil {
		t.Error("the follower is still connected after the server stopped")
	}
	f.Close()
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Error("the listener is still open")
	}
	http.DefaultClient.CloseIdleConnections()
	noLeak(t, base)
}

// TestStartNeedsNoShowCall: a server with no page never calls Status on its own (the publisher
// idles), so an idle console costs the show nothing.
func TestStartNeedsNoShowCall(t *testing.T) {
	show := &countingShow{fakeShow: newFakeShow()}
	s := start(t, Config{Show: show, LiveInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	<-ctx.Done() // a stretch of time in which the publisher ticks 40 times
	if n := show.calls(); n != 0 {
		t.Fatalf("Status called %d times with no page open", n)
	}
	c, _, err := dialLive(s, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readStatus(t, c, 2*time.Second)
	readStatus(t, c, 2*time.Second)
	if show.calls() < 2 {
		t.Fatalf("Status called %d times with a page open", show.calls())
	}
}

type countingShow struct {
	*fakeShow
	n int
}

func (c *countingShow) Status() Status {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.fakeShow.Status()
}

func (c *countingShow) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
