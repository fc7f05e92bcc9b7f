package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

// sendHello sends m as a hello (type and version filled in) and returns the answer.
func sendHello(t *testing.T, c *websocket.Conn, m netsync.Message) netsync.Message {
	t.Helper()
	m.Type, m.Version = netsync.TypeHello, netsync.ProtocolVersion
	if err := c.WriteJSON(m); err != nil {
		t.Fatal(err)
	}
	return readMsg(t, c)
}

// readClose reads until the connection ends and returns its close code (-1: not a close frame).
func readClose(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		return -1
	}
}

// apiPost posts body to the hub's path with the given headers and returns the status and the
// decoded error body (if any).
func apiPost(t *testing.T, base, path, body string, hdr map[string]string) (int, APIError) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e APIError
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &e)
	return resp.StatusCode, e
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

// connectWall dials the hub as wall and completes the hello; it returns the connection and the welcome.
func connectWall(t *testing.T, url, wall string, hello netsync.Message) (*websocket.Conn, netsync.Message) {
	t.Helper()
	c := rawConn(t, url)
	hello.Wall = wall
	m := sendHello(t, c, hello)
	return c, m
}

// TestLiveHasReadLimitDeadlineAndPings: a page socket that sends a big message is closed with
// 1009; one that does not answer pings is closed after PongWait; one that answers stays.
func TestLiveHasReadLimitDeadlineAndPings(t *testing.T) {
	h := startHub(t, HubConfig{PingPeriod: 50 * time.Millisecond, PongWait: 400 * time.Millisecond})
	live := strings.Replace(h.url, "/ws", "/live", 1)
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(live, http.Header{"Origin": {h.http}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	big := dial()
	big.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 64<<10))
	if code := readClose(t, big); code != websocket.CloseMessageTooBig {
		t.Fatalf("a 64 KiB message from a page: close %d, want 1009", code)
	}

	deaf := dial()
	deaf.SetPingHandler(func(string) error { return nil }) // reads, but never answers a ping
	answering := dial()
	answerErr := make(chan error, 1)
	go func() { // reads all along, so gorilla answers every ping
		for {
			if _, _, err := answering.ReadMessage(); err != nil {
				answerErr <- err
				return
			}
		}
	}()
	start := time.Now()
	if code := readClose(t, deaf); code == 0 || time.Since(start) > 3*time.Second {
		t.Fatalf("a page that answers no ping was not dropped (%v)", time.Since(start))
	}
	// The answering page is still served several PongWaits later.
	select {
	case err := <-answerErr:
		t.Fatalf("a page that answers pings was dropped after %v: %v", time.Since(start), err)
	case <-time.After(1500 * time.Millisecond):
	}
}

// TestForeignHostsAreRefused: a request whose Host is not the hub's (DNS rebinding: a page of
// evil.example whose name now resolves to the hub) is refused everywhere, /live included even when
// its Origin matches that Host.
func TestForeignHostsAreRefused(t *testing.T) {
	h := startHub(t, HubConfig{})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(h.http, "http://"))
	evil := "evil.example:" + port
	for _, path := range []string{"/", "/api/totals", "/api/walls", "/overlay", "/director", "/healthz", "/live", "/ws"} {
		req, _ := http.NewRequest("GET", h.http+path, nil)
		req.Host = evil
		req.Header.Set("Origin", "http://"+evil)
		if path == "/live" || path == "/ws" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e APIError
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || e.Code != CodeBadHost {
			t.Fatalf("GET %s with Host %s: %d %+v, want 403 bad_host", path, evil, resp.StatusCode, e)
		}
	}
	if code, e := apiPost(t, h.http, "/api/abort", `{"wall":"w","round":1}`, map[string]string{"Content-Type": "application/json", "Host": evil}); code != 403 || e.Code != CodeBadHost {
		t.Fatalf("POST with a foreign Host: %d %+v", code, e)
	}
	// The hub's own names pass.
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port} {
		req, _ := http.NewRequest("GET", h.http+"/healthz", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("Host %s: %v %v", host, err, resp.Status)
		}
		resp.Body.Close()
	}
	// An allowed name given by the operator passes, with any port when none is given.
	h2 := startHub(t, HubConfig{Hosts: []string{"scores.studio.lan", "10.1.2.3:8090"}})
	for host, want := range map[string]int{"scores.studio.lan:9999": 200, "10.1.2.3:8090": 200, "10.1.2.3:8091": 403, "127.0.0.1": 403} {
		req, _ := http.NewRequest("GET", h2.http+"/healthz", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("Host %s with Hosts %v: %v %v, want %d", host, h2.hub.cfg.Hosts, err, resp.Status, want)
		}
		resp.Body.Close()
	}
}

// TestStateChangingRequestsNeedJSONSameOriginAndToken: a web page elsewhere must not start or
// abort a round: a text/plain or form post (a "simple" cross-site request), a foreign Origin, a
// cross-site Sec-Fetch-Site and a missing token are all refused, and the wall receives nothing.
func TestStateChangingRequestsNeedJSONSameOriginAndToken(t *testing.T) {
	for _, token := range []string{"", "tk"} {
		h := startHub(t, HubConfig{Token: token})
		c, welcome := connectWall(t, h.url, "w", netsync.Message{Token: token})
		if welcome.Type != netsync.TypeWelcome {
			t.Fatalf("hello: %+v", welcome)
		}
		auth := map[string]string{}
		if token != "" {
			auth["Authorization"] = "Bearer " + token
		}
		with := func(kv ...string) map[string]string {
			m := map[string]string{}
			for k, v := range auth {
				m[k] = v
			}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		body := `{"wall":"w","round":1}`
		for _, tc := range []struct {
			name string
			hdr  map[string]string
			code int
			err  string
		}{
			{"text/plain", with("Content-Type", "text/plain"), 415, CodeBadContentType},
			{"form", with("Content-Type", "application/x-www-form-urlencoded"), 415, CodeBadContentType},
			{"no content type", with(), 415, CodeBadContentType},
			{"foreign origin", with("Content-Type", "application/json", "Origin", "http://evil.example"), 403, CodeBadOrigin},
			{"null origin", with("Content-Type", "application/json", "Origin", "null"), 403, CodeBadOrigin},
			{"cross-site fetch", with("Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"), 403, CodeBadOrigin},
			{"same-site fetch", with("Content-Type", "application/json", "Sec-Fetch-Site", "same-site"), 403, CodeBadOrigin},
		} {
			if code, e := apiPost(t, h.http, "/api/abort", body, tc.hdr); code != tc.code || e.Code != tc.err {
				t.Fatalf("token %q, %s: %d %+v, want %d %s", token, tc.name, code, e, tc.code, tc.err)
			}
		}
		if token != "" {
			if code, e := apiPost(t, h.http, "/api/abort", body, jsonCT); code != 401 || e.Code != netsync.CodeBadToken {
				t.Fatalf("no token: %d %+v", code, e)
			}
			if code, e := apiPost(t, h.http, "/api/abort", body, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer nope"}); code != 401 || e.Code != netsync.CodeBadToken {
				t.Fatalf("wrong token: %d %+v", code, e)
			}
		}
		// Nothing reached the wall; the CLI's request (JSON, no Origin) and the page's own
		// (same Origin, same-origin fetch) pass.
		if code, e := apiPost(t, h.http, "/api/abort", body, with("Content-Type", "application/json; charset=utf-8")); code != 200 {
			t.Fatalf("the CLI's request: %d %+v", code, e)
		}
		if m := readMsg(t, c); m.Type != netsync.TypeAbort || m.Round != 1 {
			t.Fatalf("the first command the wall got is %+v: a refused request got through", m)
		}
		if code, e := apiPost(t, h.http, "/api/abort", `{"wall":"w","round":2}`, with("Content-Type", "application/json", "Origin", h.http, "Sec-Fetch-Site", "same-origin")); code != 200 {
			t.Fatalf("same-origin request: %d %+v", code, e)
		}
		if m := readMsg(t, c); m.Type != netsync.TypeAbort || m.Round != 2 {
			t.Fatalf("abort 2: %+v", m)
		}
	}
}

// TestStalledPostBodyIsClosed: a client that sends a POST's headers and then stalls in its body
// is cut off after the read timeout instead of holding its connection for ever.
func TestStalledPostBodyIsClosed(t *testing.T) {
	h := startHub(t, HubConfig{ReadTimeout: 300 * time.Millisecond})
	addr := strings.TrimPrefix(h.http, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "POST /api/abort HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"wall\":")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, c) // until the server closes
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("a stalled POST body held its connection for %v", d)
	}
	srv := h.hub.Server()
	if srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.ReadHeaderTimeout == 0 {
		t.Fatalf("server timeouts: %+v", srv)
	}
}

// syncBuffer is a log sink for tests.
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

// TestBinaryUnknownFieldsAndTooBigAreRefusedLoggedAndCounted: a binary frame and a message with an
// unknown field get bad_json and store nothing; a message over 64 KiB gets too_big, then close
// 1009; every error is logged and counted.
func TestBinaryUnknownFieldsAndTooBigAreRefusedLoggedAndCounted(t *testing.T) {
	var logs syncBuffer
	h := startHub(t, HubConfig{Log: zerolog.New(&logs)})
	c, _ := connectWall(t, h.url, "w", netsync.Message{})
	ev, _ := json.Marshal(netsync.ScoreMessage(genEvent("w", 1, 1)))
	c.WriteMessage(websocket.BinaryMessage, ev)
	if m := readMsg(t, c); m.Code != netsync.CodeBadJSON {
		t.Fatalf("binary frame: %+v", m)
	}
	withColour := append(bytes.TrimSuffix(ev, []byte("}")), []byte(`,"colour":"red"}`)...)
	c.WriteMessage(websocket.TextMessage, withColour)
	if m := readMsg(t, c); m.Code != netsync.CodeBadJSON || !strings.Contains(m.Message, "colour") {
		t.Fatalf("unknown field: %+v", m)
	}
	c.WriteMessage(websocket.TextMessage, append(append([]byte{}, ev...), []byte(` {"type":"score"}`)...))
	if m := readMsg(t, c); m.Code != netsync.CodeBadJSON {
		t.Fatalf("trailing data: %+v", m)
	}
	if len(h.store.Totals().Walls) != 0 {
		t.Fatal("a refused message was stored")
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"score","reason":"`+strings.Repeat("x", 300<<10)+`"}`))
	if m := readMsg(t, c); m.Code != netsync.CodeTooBig {
		t.Fatalf("300 KiB: %+v", m)
	}
	if code := readClose(t, c); code != websocket.CloseMessageTooBig {
		t.Fatalf("after too_big: close %d, want 1009", code)
	}
	waitFor(t, "the errors in the log", 5*time.Second, func() bool {
		l := logs.String()
		return strings.Contains(l, `"code":"bad_json"`) && strings.Contains(l, `"code":"too_big"`)
	})
	resp, _ := http.Get(h.http + "/metrics")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`scorehub_errors_total{code="bad_json"} 3`, `scorehub_errors_total{code="too_big"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("metrics lack %s:\n%s", want, b)
		}
	}
}

// TestWelcomeCarriesOnlyTheRoundsAskedAndMaxRound: with 3000 rounds stored, the welcome answers
// the rounds the hello asked about (0 for one the backend does not hold) and max_round, and stays
// small whatever the history.
func TestWelcomeCarriesOnlyTheRoundsAskedAndMaxRound(t *testing.T) {
	h := startHub(t, HubConfig{})
	evs := make([]netsync.Event, 0, 3000)
	for r := uint32(1); r <= 3000; r++ {
		evs = append(evs, genEvent("big", r, 1), genEvent("big", r, 2))
	}
	if _, err := h.store.Commit(evs); err != nil {
		t.Fatal(err)
	}
	c := rawConn(t, h.url)
	ask := []netsync.RoundSeq{{Round: 3000, Seq: 1}, {Round: 2999, Seq: 2}, {Round: 5000, Seq: 9}}
	b, _ := json.Marshal(netsync.Message{Type: netsync.TypeHello, Version: netsync.ProtocolVersion, Wall: "big", Acked: ask})
	c.WriteMessage(websocket.TextMessage, b)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, raw, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	w, _ := netsync.Decode(raw)
	want := []netsync.RoundSeq{{Round: 2999, Seq: 2}, {Round: 3000, Seq: 2}, {Round: 5000, Seq: 0}}
	if w.Type != netsync.TypeWelcome || len(w.Acked) != 3 || w.Acked[0] != want[0] || w.Acked[1] != want[1] || w.Acked[2] != want[2] {
		t.Fatalf("welcome %s, want acked %v", raw, want)
	}
	if w.MaxRound != 3000 || len(raw) > 512 {
		t.Fatalf("welcome of %d bytes with max_round %d: %s", len(raw), w.MaxRound, raw)
	}
}

// TestSameEpochSecondHelloRefusedWhileTheFirstAnswers: two machines with one wall id at the same
// epoch: while the first answers pings, the second gets wall_in_use and close 1013 and the first
// keeps the wall; once the first stops answering, a second hello replaces it within ProbeWait.
func TestSameEpochSecondHelloRefusedWhileTheFirstAnswers(t *testing.T) {
	h := startHub(t, HubConfig{})
	first, w := connectWall(t, h.url, "twin", netsync.Message{})
	if w.Type != netsync.TypeWelcome {
		t.Fatalf("first: %+v", w)
	}
	msgs := make(chan netsync.Message, 16)
	readerDone := make(chan struct{})
	go func() { // the first machine reads (so it answers pings) until told to stop
		defer close(readerDone)
		for {
			_, b, err := first.ReadMessage()
			if err != nil {
				return
			}
			m, _ := netsync.Decode(b)
			msgs <- m
		}
	}()
	second := rawConn(t, h.url)
	start := time.Now()
	if m := sendHello(t, second, netsync.Message{Wall: "twin"}); m.Type != netsync.TypeError || m.Code != netsync.CodeWallInUse {
		t.Fatalf("second hello at the same epoch: %+v, want wall_in_use", m)
	}
	if code := readClose(t, second); code != websocket.CloseTryAgainLater {
		t.Fatalf("second: close %d, want 1013", code)
	}
	if d := time.Since(start); d > ProbeWait {
		t.Fatalf("refusing took %v: the first answered its ping", d)
	}
	first.WriteJSON(netsync.ScoreMessage(genEvent("twin", 1, 1)))
	select {
	case m := <-msgs:
		if m.Type != netsync.TypeAck || m.Seq != 1 {
			t.Fatalf("first after the refusal: %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first machine lost the wall")
	}
	// The first stops reading: it answers no ping. A new hello takes over after the probe.
	first.SetReadDeadline(time.Now())
	<-readerDone
	third := rawConn(t, h.url)
	start = time.Now()
	if m := sendHello(t, third, netsync.Message{Wall: "twin"}); m.Type != netsync.TypeWelcome {
		t.Fatalf("hello after the first went deaf: %+v", m)
	}
	if d := time.Since(start); d < ProbeWait/2 || d > ProbeWait+time.Second {
		t.Fatalf("replaced after %v, want about ProbeWait (%v)", d, ProbeWait)
	}
	third.WriteJSON(netsync.ScoreMessage(genEvent("twin", 1, 2)))
	if m := readMsg(t, third); m.Type != netsync.TypeAck || m.Seq != 2 {
		t.Fatalf("third: %+v", m)
	}
}

// TestShowClockIgnoresWallClockSteps: the hub's show clock reads the wall clock once and adds
// monotonic time, so an NTP step of the system clock after start does not move it. (A test cannot
// step the real clock: it gives the clock a wall clock that steps by an hour.)
func TestShowClockIgnoresWallClockSteps(t *testing.T) {
	base := time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC)
	wall := base
	var mono time.Duration
	clock := monotonicClock(func() time.Time { return wall }, func() time.Duration { return mono })
	mono = 1500 * time.Millisecond
	wall = base.Add(time.Hour + 1500*time.Millisecond) // NTP stepped the system clock by an hour
	if got, want := clock(), base.Add(1500*time.Millisecond).UnixMicro(); got != want {
		t.Fatalf("show clock %d after a wall-clock step, want %d (moved by %v)", got, want, time.Duration(got-want)*time.Microsecond)
	}
	// The default clock is Unix time at start plus elapsed time.
	h := NewHub(nil, HubConfig{})
	if d := h.Now() - time.Now().UnixMicro(); d < -100_000 || d > 100_000 {
		t.Fatalf("the default show clock is %d µs off Unix time", d)
	}
}
