package control

import (
	"crypto/subtle"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// TokenCookie is the prefix of the cookie the console page sets for its WebSocket (browsers cannot
// set headers on one); the server's bound port follows, so two shows on one machine (a primary and
// its standby in a rehearsal) keep their tokens apart.
const TokenCookie = "tapwall_token_"

// allowedHosts returns the Host header values a request may carry: the configured host and the
// loopback names at the bound port, this machine's addresses and name on a wildcard address, and
// the extra names (a name without a port gets the bound port).
func allowedHosts(host string, bound *net.TCPAddr, extra []string) map[string]bool {
	port := strconv.Itoa(bound.Port)
	m := map[string]bool{}
	add := func(h string) {
		h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
		if h != "" {
			m[net.JoinHostPort(h, port)] = true
		}
	}
	for _, h := range []string{host, "localhost", "127.0.0.1", "::1", bound.IP.String()} {
		add(h)
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); host == "" || (ip != nil && ip.IsUnspecified()) {
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					add(n.IP.String())
				}
			}
		}
		if name, err := os.Hostname(); err == nil {
			add(name)
		}
	}
	for _, e := range extra {
		if h, p, err := net.SplitHostPort(e); err == nil {
			m[net.JoinHostPort(strings.ToLower(strings.Trim(h, "[]")), p)] = true
		} else {
			add(e)
		}
	}
	return m
}

// hostAllowed reports whether a request's Host header names this server: a Host from a name the
// server does not know is DNS rebinding (a page of another site resolving its name to this
// machine), refused whatever the token.
func (s *Server) hostAllowed(hostHeader string) bool {
	h, p, err := net.SplitHostPort(hostHeader)
	if err != nil { // no port: the scheme's default
		h, p = hostHeader, "80"
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	return s.allowed[net.JoinHostPort(h, p)]
}

// checkHost refuses every request whose Host header does not name this server.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !s.hostAllowed(r.Host) {
			s.refuse(w, r, http.StatusForbidden, apiError{Error: "bad_host",
				Message: "the Host header " + strconv.Quote(r.Host) + " does not name this control server (" + s.addr +
					"): use its address, or add the name with the caller's allowed hosts"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenOK reports whether r carries the token: Authorization: Bearer always; the token query
// parameter or the page's cookie only on a WebSocket endpoint (ws is true).
func (s *Server) tokenOK(r *http.Request, ws bool) bool {
	if s.cfg.Token == "" {
		return true
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.sameToken(t) {
		return true
	}
	if !ws {
		return false
	}
	if t := r.URL.Query().Get("token"); t != "" && s.sameToken(t) {
		return true
	}
	if c, err := r.Cookie(TokenCookie + s.port()); err == nil {
		if t, err := url.QueryUnescape(c.Value); err == nil && s.sameToken(t) {
			return true
		}
	}
	return false
}

func (s *Server) sameToken(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.Token)) == 1
}

func (s *Server) port() string {
	_, p, _ := net.SplitHostPort(s.addr)
	return p
}

// originOK reports whether a request's Origin, when it has one, is this server's own (a browser
// page served from here). A request without Origin comes from a program, not a page.
func originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, r.Host)
}

var crossOrigin = http.NewCrossOriginProtection()

// auth says which credentials a GET endpoint takes when the server has a token.
type auth int

const (
	authNone   auth = iota // no token: the page's files and /healthz
	authHeader             // Authorization: Bearer only (scripts, Prometheus, tapwall status)
	authStream             // a WebSocket: also the token query parameter or the page's cookie
)

// get wraps a read-only endpoint: GET (or HEAD) only, a WebSocket only from this server's own
// page (or a program, which sends no Origin), and the token as a says.
func (s *Server) get(a auth, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.refuse(w, r, http.StatusMethodNotAllowed, apiError{Error: "method", Message: r.URL.Path + " takes GET"})
			return
		}
		if (a == authStream || websocketUpgrade(r)) && !originOK(r) {
			s.refuse(w, r, http.StatusForbidden, apiError{Error: "cross_origin", Message: "a WebSocket from another origin (" + r.Header.Get("Origin") + ") is refused"})
			return
		}
		if a != authNone && !s.tokenOK(r, a == authStream) {
			s.refuse(w, r, http.StatusUnauthorized, apiError{Error: "bad_token", Message: "missing or wrong token: send Authorization: Bearer TOKEN (the show's --control-token)"})
			return
		}
		h(w, r)
	}
}

// post wraps a state-changing endpoint: POST only, same origin only, a JSON body, and the token
// when one is set. Cookies are not a credential here, so no other site can make a browser act.
func (s *Server) post(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			s.refuse(w, r, http.StatusMethodNotAllowed, apiError{Error: "method", Message: r.URL.Path + " takes POST with a JSON body"})
			return
		}
		// Sec-Fetch-Site when the browser sends it, else Origin against Host (net/http's csrf.go).
		if err := crossOrigin.Check(r); err != nil {
			s.refuse(w, r, http.StatusForbidden, apiError{Error: "cross_origin", Message: "a request from another site (Origin " +
				strconv.Quote(r.Header.Get("Origin")) + ", Sec-Fetch-Site " + strconv.Quote(r.Header.Get("Sec-Fetch-Site")) + ") is refused"})
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			s.refuse(w, r, http.StatusUnsupportedMediaType, apiError{Error: "content_type",
				Message: "send Content-Type: application/json (got " + strconv.Quote(r.Header.Get("Content-Type")) + ")"})
			return
		}
		if !s.tokenOK(r, false) {
			s.refuse(w, r, http.StatusUnauthorized, apiError{Error: "bad_token", Message: "missing or wrong token: send Authorization: Bearer TOKEN (the show's --control-token)"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
		h(w, r)
	}
}

func websocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// refuse answers a refused request and logs it (path without query, never a header or token),
// at most once per reason every refusalLogEvery, with how many were not logged since.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, e apiError) {
	if n, ok := s.refusals.take(e.Error, time.Now()); ok {
		s.cfg.Log.Warn().Str("reason", e.Error).Int("status", code).Str("remote", r.RemoteAddr).Str("method", r.Method).
			Str("path", r.URL.Path).Str("host", r.Host).Int("unlogged", n).Msg("control server: request refused")
	}
	writeError(w, code, e)
}

// refusalLogEvery limits refused-request logging per reason, so a misconfigured script or a probe
// cannot flood the show's log.
const refusalLogEvery = 10 * time.Second

type refusalLog struct {
	every time.Duration // refusalLogEvery; tests set 0 to log every refusal
	mu    sync.Mutex
	last  map[string]time.Time
	skip  map[string]int
}

// take reports whether a refusal for reason may be logged now, and how many went unlogged before.
func (l *refusalLog) take(reason string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last, l.skip = map[string]time.Time{}, map[string]int{}
	}
	if t, ok := l.last[reason]; ok && now.Sub(t) < l.every {
		l.skip[reason]++
		return 0, false
	}
	n := l.skip[reason]
	l.last[reason], l.skip[reason] = now, 0
	return n, true
}

// newStdLog routes net/http's own error messages (bad requests, handshake errors) to the logger.
func newStdLog(l zerolog.Logger) *log.Logger {
	return log.New(stdLogWriter{l}, "", 0)
}

type stdLogWriter struct{ l zerolog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	w.l.Warn().Str("error", strings.TrimSpace(string(p))).Msg("control server: http")
	return len(p), nil
}
