package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestHealthStatusMetrics checks the read endpoints: /healthz, /status with every field the issue
// names (and the bound address in "control"), /metrics from the show.
func TestHealthStatusMetrics(t *testing.T) {
	s := start(t, Config{})
	if code, body := s.do(t, req{path: "/healthz"}); code != 200 || body != "ok" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	code, body := s.do(t, req{path: "/status"})
	if code != 200 {
		t.Fatalf("/status: %d %s", code, body)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"role", "wall", "epoch", "round", "phase", "tick", "pid", "outbox", "lag_ticks", "fps",
		"last_frame_age_ms", "alarms", "frames", "backend", "control"} {
		if _, ok := m[k]; !ok {
			t.Errorf("/status has no %q: %s", k, body)
		}
	}
	var st Status
	json.Unmarshal([]byte(body), &st)
	if st.Control != s.Addr() || st.Role != "primary" || st.Round != 3 || st.PID != 4242 {
		t.Fatalf("/status: control %q (bound %q), role %q, round %d, pid %d", st.Control, s.Addr(), st.Role, st.Round, st.PID)
	}
	if string(m["alarms"]) != "[]" || string(m["frames"]) != "[]" {
		t.Fatalf("no alarms and no frames must read [], got %s and %s", m["alarms"], m["frames"])
	}
	s.post(t, `{"action":"start"}`, nil)
	code, body = s.do(t, req{path: "/metrics"})
	if code != 200 || !strings.Contains(body, "tapwall_ticks_total 1") {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	if code, body := s.do(t, req{path: "/nothing"}); code != 404 {
		t.Fatalf("/nothing: %d %s", code, body)
	}
}

// TestPortZeroAndPortInUse: port 0 binds a free port that Addr reports; a port in use is an
// error naming the address.
func TestPortZeroAndPortInUse(t *testing.T) {
	a := start(t, Config{Addr: "127.0.0.1:0"})
	if strings.HasSuffix(a.Addr(), ":0") || !strings.HasPrefix(a.Addr(), "127.0.0.1:") {
		t.Fatalf("bound %q", a.Addr())
	}
	if !strings.Contains(a.log.String(), a.Addr()) {
		t.Fatalf("the bound address is not logged:\n%s", a.log)
	}
	b, err := New(Config{Addr: a.Addr(), Show: newFakeShow(), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = b.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), a.Addr()) || !strings.Contains(err.Error(), "--control") {
		t.Fatalf("a port in use: %v", err)
	}
	if !errors.Is(err, syscallEADDRINUSE()) {
		t.Fatalf("the listener's error is not wrapped: %v", err)
	}
}

func syscallEADDRINUSE() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	_, err = net.Listen("tcp", l.Addr().String())
	var oe *net.OpError
	if errors.As(err, &oe) {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
	}
	return err
}

// TestTokenRequiredOffLoopback: an address reachable from the network needs a token; loopback
// does not.
func TestTokenRequiredOffLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		off  bool
	}{
		{"127.0.0.1:0", false}, {"localhost:7700", false}, {"[::1]:0", false}, {"127.9.8.7:7700", false},
		{"0.0.0.0:7700", true}, {":7700", true}, {"[::]:7700", true}, {"192.168.1.5:7700", true}, {"showpc.example:7700", true},
	} {
		_, err := New(Config{Addr: tc.addr, Show: newFakeShow()})
		if tc.off {
			if !errors.Is(err, ErrTokenRequired) || !strings.Contains(err.Error(), "--control-token") || !strings.Contains(err.Error(), tc.addr) {
				t.Errorf("%s without a token: %v", tc.addr, err)
			}
			if _, err := New(Config{Addr: tc.addr, Token: "t", Show: newFakeShow()}); err != nil {
				t.Errorf("%s with a token: %v", tc.addr, err)
			}
		} else if err != nil {
			t.Errorf("%s (loopback) without a token: %v", tc.addr, err)
		}
	}
	for _, bad := range []string{"7700", "127.0.0.1", "127.0.0.1:http-alt-x", "127.0.0.1:99999"} {
		if _, err := New(Config{Addr: bad, Show: newFakeShow()}); err == nil || !strings.Contains(err.Error(), "--control") {
			t.Errorf("address %q: %v", bad, err)
		}
	}
}

// TestHostHeaderChecked: every request's Host must name the server, token or not: a rebinding
// name is refused even with the right token.
func TestHostHeaderChecked(t *testing.T) {
	s := start(t, Config{Token: "tok", AllowedHosts: []string{"desk-pc", "proxy.example:8443"}})
	_, port, _ := net.SplitHostPort(s.Addr())
	auth := map[string]string{"Authorization": "Bearer tok"}
	show := s.show.(*fakeShow)
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1:" + port, true}, {"localhost:" + port, true}, {"LOCALHOST:" + port, true}, {"[::1]:" + port, true},
		{"desk-pc:" + port, true}, {"proxy.example:8443", true},
		{"evil.example:" + port, false}, {"127.0.0.1.nip.io:" + port, false}, {"127.0.0.1:1", false},
		{"localhost", false}, {"desk-pc:1", false}, {"proxy.example:" + port, false},
	} {
		for _, path := range []string{"/status", "/healthz", "/"} {
			code, body := s.do(t, req{path: path, host: tc.host, header: auth})
			if tc.ok != (code == 200) || (!tc.ok && (code != http.StatusForbidden || decodeError(t, body).Error != "bad_host")) {
				t.Errorf("GET %s with Host %q: %d %s", path, tc.host, code, body)
			}
		}
		code, _ := s.do(t, req{method: "POST", path: "/api/input", body: `{"action":"start"}`, host: tc.host, header: auth})
		if tc.ok != (code == 200) {
			t.Errorf("POST with Host %q: %d", tc.host, code)
		}
		if tc.ok {
			show.next(t)
		} else {
			show.none(t)
		}
	}
}

// TestHostsOnWildcardAddress: listening on all interfaces, the machine's own addresses and name
// are its names; others are not.
func TestHostsOnWildcardAddress(t *testing.T) {
	s := start(t, Config{Addr: "0.0.0.0:0", Token: "tok"})
	_, port, _ := net.SplitHostPort(s.Addr())
	auth := map[string]string{"Authorization": "Bearer tok"}
	name, _ := os.Hostname()
	for _, h := range []string{"127.0.0.1", "localhost", strings.ToLower(name)} {
		if code, body := s.do(t, req{path: "/status", host: net.JoinHostPort(h, port), header: auth}); code != 200 {
			t.Errorf("Host %s: %d %s", h, code, body)
		}
	}
	if code, _ := s.do(t, req{path: "/status", host: "attacker.example:" + port, header: auth}); code != http.StatusForbidden {
		t.Errorf("a foreign name on a wildcard address: %d", code)
	}
}

// TestPostRules: actions are POST only, same origin only, JSON only; a refused request reaches
// no show.
func TestPostRules(t *testing.T) {
	s := start(t, Config{})
	show := s.show.(*fakeShow)
	for _, tc := range []struct {
		name   string
		r      req
		code   int
		errore string
	}{
		{"GET", req{path: "/api/input"}, 405, "method"},
		{"text/plain", req{method: "POST", path: "/api/input", body: `{"action":"start"}`, header: map[string]string{"Content-Type": "text/plain"}}, 415, "content_type"},
		{"form", req{method: "POST", path: "/api/input", body: `a=b`, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, "content_type"},
		{"no type", req{method: "POST", path: "/api/input", body: `{"action":"start"}`, header: map[string]string{"Content-Type": ""}}, 415, "content_type"},
		{"other origin", req{method: "POST", path: "/api/input", body: `{"action":"start"}`, header: map[string]string{"Origin": "http://evil.example"}}, 403, "cross_origin"},
		{"null origin", req{method: "POST", path: "/api/input", body: `{"action":"start"}`, header: map[string]string{"Origin": "null"}}, 403, "cross_origin"},
		{"cross-site fetch", req{method: "POST", path: "/api/input", body: `{"action":"start"}`, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, "cross_origin"},
		{"same-site fetch", req{method: "POST", path: "/api/input", body: `{"action":"start"}`, header: map[string]string{"Sec-Fetch-Site": "same-site"}}, 403, "cross_origin"},
		{"promote GET", req{path: "/promote"}, 405, "method"},
		{"status POST", req{method: "POST", path: "/status", body: `{}`}, 405, "method"},
	} {
		code, body := s.do(t, tc.r)
		if code != tc.code || decodeError(t, body).Error != tc.errore {
			t.Errorf("%s: %d %s, want %d %s", tc.name, code, body, tc.code, tc.errore)
		}
		show.none(t)
	}
	// The page's own origin, and a script with no Origin, are accepted.
	for _, h := range []map[string]string{{"Origin": s.base, "Sec-Fetch-Site": "same-origin"}, nil, {"Content-Type": "application/json; charset=utf-8"}} {
		if code, body := s.post(t, `{"action":"start"}`, h); code != 200 {
			t.Errorf("POST with %v: %d %s", h, code, body)
		}
		if got := show.next(t); got != `{"action":"start","source":"console"}` {
			t.Errorf("the show got %s", got)
		}
	}
}

// TestTokenRules: with a token, everything but the page's files and /healthz needs it; headers
// for requests, also query or cookie for the WebSocket.
func TestTokenRules(t *testing.T) {
	s := start(t, Config{Token: "tok-1"})
	show := s.show.(*fakeShow)
	_, port, _ := net.SplitHostPort(s.Addr())
	good := map[string]string{"Authorization": "Bearer tok-1"}
	for _, tc := range []struct {
		r    req
		code int
	}{
		{req{path: "/healthz"}, 200},
		{req{path: "/"}, 200},
		{req{path: "/console.js"}, 200},
		{req{path: "/status"}, 401},
		{req{path: "/status", header: map[string]string{"Authorization": "Bearer tok-2"}}, 401},
		{req{path: "/status", header: map[string]string{"Authorization": "tok-1"}}, 401},
		{req{path: "/status?token=tok-1"}, 401},
		{req{path: "/status", header: map[string]string{"Cookie": TokenCookie + port + "=tok-1"}}, 401},
		{req{path: "/status", header: good}, 200},
		{req{path: "/metrics"}, 401},
		{req{path: "/metrics", header: good}, 200},
		{req{method: "POST", path: "/api/input", body: `{"action":"start"}`}, 401},
		{req{method: "POST", path: "/api/input", body: `{"action":"start"}`, header: map[string]string{"Cookie": TokenCookie + port + "=tok-1"}}, 401},
		{req{method: "POST", path: "/promote", body: `{}`}, 401},
	} {
		if code, body := s.do(t, tc.r); code != tc.code {
			t.Errorf("%s %s %v: %d %s, want %d", tc.r.method, tc.r.path, tc.r.header, code, body, tc.code)
		}
		show.none(t)
	}
	if code, body := s.post(t, `{"action":"start"}`, good); code != 200 {
		t.Fatalf("with the token: %d %s", code, body)
	}
	show.next(t)

	// The WebSocket: query parameter or cookie; and never from another origin, token or not.
	for _, tc := range []struct {
		name   string
		query  string
		header http.Header
		ok     bool
	}{
		{"no token", "", nil, false},
		{"query", "?token=tok-1", nil, true},
		{"wrong query", "?token=tok-2", nil, false},
		{"cookie", "", http.Header{"Cookie": {TokenCookie + port + "=tok-1"}}, true},
		{"cookie of another port", "", http.Header{"Cookie": {TokenCookie + "1=tok-1"}}, false},
		{"header", "", http.Header{"Authorization": {"Bearer tok-1"}}, true},
		{"same origin", "?token=tok-1", http.Header{"Origin": {s.base}}, true},
		{"other origin", "?token=tok-1", http.Header{"Origin": {"http://evil.example"}}, false},
	} {
		c, resp, err := dialLive(s, tc.query, tc.header)
		if tc.ok != (err == nil) {
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			t.Errorf("/live %s: %v (%d)", tc.name, err, code)
		}
		if c != nil {
			c.Close()
		}
	}
}

// TestInputConfirmAndPassThrough: destructive actions need confirm:true (409 saying what to
// confirm, nothing applied); the rest pass to the show with confirm removed and source console.
func TestInputConfirmAndPassThrough(t *testing.T) {
	s := start(t, Config{})
	show := s.show.(*fakeShow)
	show.set(func(st *Status) { st.Lanes[1].Name = "Ada" })
	for _, tc := range []struct {
		body, question string
	}{
		{`{"action":"abort"}`, "abort round 3 (running)"},
		{`{"action":"abort","confirm":false}`, "abort round 3"},
		{`{"action":"quit"}`, "quit tapwall"},
		{`{"action":"adjust","lane":1,"delta":-5}`, "change the score of lane 2 (Ada) by -5"},
	} {
		code, body := s.post(t, tc.body, nil)
		e := decodeError(t, body)
		if code != http.StatusConflict || e.Error != "confirm" || !strings.Contains(e.Confirm, tc.question) || !strings.Contains(e.Message, `"confirm":true`) {
			t.Errorf("%s: %d %s", tc.body, code, body)
		}
		show.none(t)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"action":"abort","confirm":true}`, `{"action":"abort","source":"console"}`},
		{`{"action":"quit","confirm":true}`, `{"action":"quit","source":"console"}`},
		{`{"action":"adjust","lane":1,"delta":-5,"confirm":true}`, `{"action":"adjust","delta":-5,"lane":1,"source":"console"}`},
		{`{"action":"takeover","lane":2,"on":true}`, `{"action":"takeover","lane":2,"on":true,"source":"console"}`},
		{`{"action":"takeover","lane":2,"on":false,"source":"keyboard"}`, `{"action":"takeover","lane":2,"on":false,"source":"console"}`},
		{`{"action":"start","confirm":true}`, `{"action":"start","source":"console"}`},
		{`{"action":"next_game"}`, `{"action":"next_game","source":"console"}`},
		{`{"action":"attract"}`, `{"action":"attract","source":"console"}`},
		{`{"action":"names","names":["Ada","Bo"]}`, `{"action":"names","names":["Ada","Bo"],"source":"console"}`},
		{`{"kind":"down","contact":1,"x_mm":10,"y_mm":20}`, `{"contact":1,"kind":"down","source":"console","x_mm":10,"y_mm":20}`},
	} {
		before := show.Status().Tick
		code, body := s.post(t, tc.body, nil)
		var r map[string]int64
		if code != 200 || json.Unmarshal([]byte(body), &r) != nil || len(r) != 1 || r["tick"] != before+1 {
			t.Errorf("%s: %d %s (show tick was %d)", tc.body, code, body, before)
		}
		if got := show.next(t); got != tc.want {
			t.Errorf("%s: the show got %s, want %s", tc.body, got, tc.want)
		}
	}
}

// TestInputErrors: bad JSON and anything that is not one input line is 400 with the reason; the
// show's ErrBadInput is 400, ErrNotNow 409, a frame loop that does not take it 503.
func TestInputErrors(t *testing.T) {
	show := newFakeShow()
	s := start(t, Config{Show: show, InputTimeout: 100 * time.Millisecond})
	for _, tc := range []struct{ body, reason string }{
		{`{"action":`, "want one JSON object"},
		{`not json`, "want one JSON object"},
		{`null`, "want one JSON object"},
		{`["start"]`, "want one JSON object"},
		{`{"action":"start"}{"action":"abort"}`, "not several"},
		{`{"tick":5,"action":"start"}`, `no "tick"`},
		{`{"lane":1}`, `needs "action"`},
		{`{"action":7}`, `"action" must be`},
		{`{"action":""}`, `"action" must be`},
		{`{"action":"abort","confirm":"yes"}`, `"confirm" must be`},
	} {
		code, body := s.post(t, tc.body, nil)
		if e := decodeError(t, body); code != 400 || e.Error != "bad_input" || !strings.Contains(e.Message, tc.reason) {
			t.Errorf("%s: %d %s, want 400 naming %q", tc.body, code, body, tc.reason)
		}
		show.none(t)
	}
	big := `{"action":"names","names":["` + strings.Repeat("x", MaxRequestBody) + `"]}`
	if code, _ := s.post(t, big, nil); code != 400 {
		t.Errorf("a body over %d bytes: %d", MaxRequestBody, code)
	}

	show.answer(fmt.Errorf("unknown action %q: use start, pause: %w", "explode", ErrBadInput), false)
	code, body := s.post(t, `{"action":"explode"}`, nil)
	if e := decodeError(t, body); code != 400 || !strings.Contains(e.Message, `unknown action "explode"`) {
		t.Errorf("an unknown action: %d %s", code, body)
	}
	show.answer(fmt.Errorf("following ws://primary/follow: console inputs go to the primary: %w", ErrNotNow), false)
	code, body = s.post(t, `{"action":"start"}`, nil)
	if e := decodeError(t, body); code != 409 || e.Error != "refused" || !strings.Contains(e.Message, "primary") {
		t.Errorf("a refused input: %d %s", code, body)
	}
	show.answer(errors.New("disk on fire"), false)
	if code, body = s.post(t, `{"action":"start"}`, nil); code != 500 || !strings.Contains(body, "disk on fire") {
		t.Errorf("another error: %d %s", code, body)
	}
	show.answer(nil, true)
	t0 := time.Now()
	code, body = s.post(t, `{"action":"start"}`, nil)
	if e := decodeError(t, body); code != 503 || e.Error != "timeout" || !strings.Contains(e.Message, "keyboard") {
		t.Errorf("a frozen loop: %d %s", code, body)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("a frozen loop took %v to answer (timeout 100ms)", d)
	}
	// /status answers while Input hangs: it never waits on the frame loop.
	done := make(chan struct{})
	go func() { s.post(t, `{"action":"start"}`, nil); close(done) }()
	if code, _ := s.do(t, req{path: "/status"}); code != 200 {
		t.Errorf("/status while an input hangs: %d", code)
	}
	<-done
}

// TestTokenNeverLogged runs every kind of request with the right and wrong tokens in every
// place a token goes, and checks the log has neither (and that it did log the requests).
func TestTokenNeverLogged(t *testing.T) {
	const tok, wrong = "s3cret-TOKEN-8811", "wrong-TOKEN-2299"
	var followURL string
	follow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followURL = r.URL.String(); w.Write([]byte("follow")) })
	s := start(t, Config{Token: tok, Follow: follow}, func(s *Server) { s.refusals.every = 0 })
	show := s.show.(*fakeShow)
	_, port, _ := net.SplitHostPort(s.Addr())
	for _, tk := range []string{tok, wrong} {
		bearer := map[string]string{"Authorization": "Bearer " + tk}
		s.do(t, req{path: "/status", header: bearer})
		s.do(t, req{path: "/status?token=" + tk})
		s.do(t, req{path: "/metrics", header: bearer})
		s.do(t, req{path: "/follow?token=" + tk})
		s.do(t, req{path: "/follow", header: bearer})
		s.do(t, req{path: "/status", host: "evil.example", header: bearer})
		s.post(t, `{"action":"abort"}`, bearer)
		s.post(t, `{"action":"start"}`, bearer)
		s.do(t, req{method: "POST", path: "/promote", body: `{}`, header: bearer})
		s.do(t, req{method: "POST", path: "/api/input", body: "x", header: map[string]string{"Authorization": "Bearer " + tk, "Content-Type": "text/plain"}})
		if c, _, err := dialLive(s, "?token="+tk, nil); err == nil {
			c.Close()
		}
		if c, _, err := dialLive(s, "", http.Header{"Cookie": {TokenCookie + port + "=" + tk}}); err == nil {
			c.Close()
		}
	}
	show.next(t)
	if followURL != "/follow" {
		t.Errorf("the Follow handler saw %q: the token must be removed", followURL)
	}
	s.stop(t)
	log := s.log.String()
	if strings.Contains(log, tok) || strings.Contains(log, wrong) || strings.Contains(log, "TOKEN") {
		t.Fatalf("a token is in the log:\n%s", log)
	}
	for _, want := range []string{"request refused", "bad_token", "bad_host", "console input", "control server listening"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no %q: the test logged nothing to check:\n%s", want, log)
		}
	}
}

// TestRefusalsLoggedSparingly: a flood of refused requests logs one line per reason per period.
func TestRefusalsLoggedSparingly(t *testing.T) {
	s := start(t, Config{})
	for range 50 {
		s.do(t, req{path: "/status", host: "evil.example"})
	}
	if n := strings.Count(s.log.String(), "request refused"); n != 1 {
		t.Fatalf("%d refusal lines for 50 refused requests within %v", n, refusalLogEvery)
	}
	l := refusalLog{every: refusalLogEvery}
	t0 := time.Now()
	l.take("x", t0)
	l.take("x", t0.Add(time.Second))
	if n, ok := l.take("x", t0.Add(refusalLogEvery)); !ok || n != 1 {
		t.Fatalf("after the period: %d %v", n, ok)
	}
}

// TestPromote: /promote promotes a standby and answers its new status; a show that is not a
// standby answers 409.
func TestPromote(t *testing.T) {
	p := start(t, Config{})
	if code, body := p.do(t, req{method: "POST", path: "/promote", body: `{}`}); code != 409 || decodeError(t, body).Error != "not_standby" {
		t.Fatalf("promote a primary: %d %s", code, body)
	}
	sb := standbyShow{fakeShow: newFakeShow()}
	sb.set(func(st *Status) { st.Role, st.Following = "standby", "ws://10.0.0.1:7700/follow" })
	s := start(t, Config{Show: sb})
	code, body := s.do(t, req{method: "POST", path: "/promote", body: `{}`})
	var st Status
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Role != "primary" || st.Epoch != 2 || st.Control != s.Addr() {
		t.Fatalf("promote a standby: %d %s", code, body)
	}
	refused := start(t, Config{Show: standbyShow{fakeShow: newFakeShow(), err: fmt.Errorf("role primary: %w", ErrNotStandby)}})
	if code, body := refused.do(t, req{method: "POST", path: "/promote", body: `{}`}); code != 409 || decodeError(t, body).Error != "not_standby" {
		t.Fatalf("a Promoter that is not a standby: %d %s", code, body)
	}
	diverged := start(t, Config{Show: standbyShow{fakeShow: newFakeShow(), err: errors.New("diverged at tick 77: a diverged standby never promotes")}})
	if code, body := diverged.do(t, req{method: "POST", path: "/promote", body: `{}`}); code != 409 || !strings.Contains(body, "tick 77") {
		t.Fatalf("a refused promotion: %d %s", code, body)
	}
}

// TestFollowMounted: /follow reaches Config.Follow under the Host and token rules; it is absent
// without one.
func TestFollowMounted(t *testing.T) {
	var seen string
	follow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.URL.RequestURI(); w.Write([]byte("following")) })
	s := start(t, Config{Token: "tk", Follow: follow})
	for _, tc := range []struct {
		r    req
		code int
	}{
		{req{path: "/follow?token=tk&from=5"}, 200},
		{req{path: "/follow", header: map[string]string{"Authorization": "Bearer tk"}}, 200},
		{req{path: "/follow"}, 401},
		{req{path: "/follow?token=no"}, 401},
		{req{path: "/follow?token=tk", host: "evil.example"}, 403},
		{req{path: "/follow?token=tk", header: map[string]string{"Origin": "http://evil.example"}}, 403},
		{req{method: "POST", path: "/follow?token=tk", body: "{}"}, 405},
	} {
		seen = ""
		code, body := s.do(t, tc.r)
		if code != tc.code || (code == 200) != (seen != "") {
			t.Errorf("%s %s: %d %s (Follow saw %q)", tc.r.method, tc.r.path, code, body, seen)
		}
		if code == 200 && (body != "following" || strings.Contains(seen, "tk")) {
			t.Errorf("%s: body %q, Follow saw %q", tc.r.path, body, seen)
		}
	}
	plain := start(t, Config{})
	if code, _ := plain.do(t, req{path: "/follow"}); code != 404 {
		t.Errorf("/follow without a Follow handler: %d", code)
	}
}

// TestPageServed: GET / is the console with a strict content security policy; its files are
// served, nothing else.
func TestPageServed(t *testing.T) {
	s := start(t, Config{})
	resp, err := http.Get(s.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("content type %q", ct)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	for _, f := range []string{"index.html", "console.css", "console.js"} {
		b, _ := pageFiles.ReadFile("page/" + f)
		b = []byte(strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "")) // a namespace, not a resource
		for _, ext := range []string{"http://", "https://", "//cdn", "@import"} {
			if strings.Contains(string(b), ext) {
				t.Errorf("%s refers to an external resource (%q)", f, ext)
			}
		}
	}
	for _, p := range []string{"/console.js", "/console.css", "/index.html"} {
		if code, _ := s.do(t, req{path: p}); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	for _, p := range []string{"/x/console.js", "/page/console.js", "/fake_test.go"} {
		if code, _ := s.do(t, req{path: p}); code != 404 {
			t.Errorf("%s: %d", p, code)
		}
	}
}
