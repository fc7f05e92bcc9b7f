package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of the control server, each with its reason.
const (
	// DefaultAddr is where `tapwall run` serves when --control is not given: loopback only, so a
	// show PC is not reachable from the network unless the operator asks for it (with a token).
	DefaultAddr = "127.0.0.1:7700"
	// DefaultInputTimeout bounds how long POST /api/input waits for the frame loop to take an input:
	// a loop that misses it is frozen, and the operator must know at once (503) and use the keyboard.
	DefaultInputTimeout = 2 * time.Second
	// DefaultPromoteTimeout bounds POST /promote: promotion takes under a second by design.
	DefaultPromoteTimeout = 5 * time.Second
	// LiveInterval is how often the console page gets a fresh Status: five times a second reads as
	// live to an operator and costs the show five Status calls a second, whatever the page count.
	LiveInterval = 200 * time.Millisecond
	// liveMinGap is the shortest gap between two pushes when a change is signalled (a console
	// input, a promotion): bursts of changes are coalesced rather than flooding the pages.
	liveMinGap = 40 * time.Millisecond
	// MaxPages is how many console pages (and /live clients) may be connected at once: enough for
	// every desk in a gallery, few enough that a runaway script cannot tie up the server.
	MaxPages = 32
	// WriteWait bounds one write to a page: a page that cannot take a Status in this time is slow
	// (or gone) and is dropped; it reconnects by itself.
	WriteWait = 2 * time.Second
	// PongWait is how long a page may stay silent (no pong) before it is dropped.
	PongWait = 15 * time.Second
	// PingPeriod is how often pages are pinged; well under PongWait.
	PingPeriod = 5 * time.Second
	// shutdownWait bounds how long a stopping server waits for requests in flight.
	shutdownWait = 2 * time.Second
	// MaxRequestBody limits POST bodies: one input line (a names list included) is far smaller.
	MaxRequestBody = 64 << 10
	// maxPageMessage limits what a page may send (it sends nothing but control frames).
	maxPageMessage = 512
)

// Errors of the control server. Start's and New's errors wrap these (or the listener's error) with
// the address or the flag to fix; the caller exits 2 on any of them.
var (
	// ErrTokenRequired: the address is reachable from the network and no token was given.
	ErrTokenRequired = errors.New("control: a control server off loopback needs --control-token")
	// ErrNotStandby is returned by Promoter.Promote when the show is not a standby (answered 409).
	ErrNotStandby = errors.New("control: not a standby")
	// ErrNotNow is wrapped by Show.Input's errors about an input the show refuses in its current
	// state, e.g. a standby that follows its primary (answered 409 with the reason).
	ErrNotNow = errors.New("control: refused in the show's current state")
)

// Promoter is implemented by a show that can be a hot standby (issue "Hot standby"): POST /promote
// calls Promote, which makes the standby the primary and returns once it is (or fails). It returns
// an error wrapping ErrNotStandby when the show is not a standby. A Show that does not implement
// Promoter answers /promote with 409.
type Promoter interface {
	Promote(ctx context.Context) error
}

// Config configures a control server.
type Config struct {
	// Addr is host:port to listen on (--control). Port 0 picks a free port; Server.Addr returns it.
	Addr string
	// Token, when set, is required on every request but GET / and GET /healthz (Authorization:
	// Bearer TOKEN; on WebSocket upgrades also the token query parameter or the page's cookie). It
	// is required when Addr is not loopback. It is never logged.
	Token string
	// Show is the running show. Required.
	Show Show
	// Log receives the server's events (start, refused requests, console actions); never a token.
	Log zerolog.Logger
	// AllowedHosts are extra names (or name:port) a request's Host header may carry, e.g. the
	// name the desk reaches the show PC by. The listen address, localhost, 127.0.0.1 and [::1] at
	// the bound port are always allowed; on a wildcard address also this machine's interface
	// addresses and host name.
	AllowedHosts []string
	// Follow, when set, is mounted at /follow (the hot standby's stream) under the same Host and
	// token rules; the token may come as Authorization: Bearer or the token query parameter (which
	// is removed before Follow sees the request). The request's context ends when the server stops.
	Follow http.Handler
	// InputTimeout bounds Show.Input per request; 0 means DefaultInputTimeout.
	InputTimeout time.Duration
	// LiveInterval is the console pages' push period; 0 means LiveInterval.
	LiveInterval time.Duration
}

// Server is the show's control server. Create it with New, start it with Start; it stops when
// Start's context ends (Wait returns then). Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	host    string // the configured host, lowercased ("" for all interfaces)
	started atomic.Bool

	addr    string          // bound address, set by Start
	allowed map[string]bool // Host header values accepted, set by Start

	ctx  context.Context // Start's context
	wg   sync.WaitGroup
	http *http.Server

	pagesMu sync.Mutex
	pages   map[*page]struct{}
	closing bool           // set once ctx has ended: no new long-lived connection is tracked
	conns   sync.WaitGroup // long-lived connections: pages and followers
	kick    chan struct{}  // a change to push to the pages now

	refusals refusalLog
}

// New checks cfg and returns a server that is not yet listening. An address off loopback without
// a token is an error wrapping ErrTokenRequired; a malformed address is an error naming it.
func New(cfg Config) (*Server, error) {
	if cfg.Show == nil {
		panic("control: Config.Show is nil")
	}
	if err := CheckAddr(cfg.Addr, cfg.Token); err != nil {
		return nil, err
	}
	if cfg.InputTimeout <= 0 {
		cfg.InputTimeout = DefaultInputTimeout
	}
	if cfg.LiveInterval <= 0 {
		cfg.LiveInterval = LiveInterval
	}
	host, _, _ := net.SplitHostPort(cfg.Addr)
	return &Server{cfg: cfg, host: strings.ToLower(host), pages: map[*page]struct{}{}, kick: make(chan struct{}, 1),
		refusals: refusalLog{every: refusalLogEvery}}, nil
}

// CheckAddr checks a --control address and token without listening: addr must be host:port, and
// an address that is not loopback (127.0.0.0/8, ::1, localhost) needs a token. The flag parsers
// call it to refuse a bad command line before anything starts.
func CheckAddr(addr, token string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--control %q: give HOST:PORT, e.g. %s (port 0 picks a free port)", addr, DefaultAddr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("--control %q: bad port %q", addr, port)
	}
	if token == "" && !IsLoopback(host) {
		return fmt.Errorf("--control %s is reachable from the network: give --control-token T (or listen on 127.0.0.1): %w", addr, ErrTokenRequired)
	}
	return nil
}

// IsLoopback reports whether host (a listen or Host header host, without port) is loopback only:
// localhost, an address in 127.0.0.0/8, or ::1. "" and 0.0.0.0 (all interfaces) are not.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start binds the address and serves on its own goroutines until ctx ends. It returns once the
// server is listening (Addr then says where); a port in use is an error naming the address. Start
// may be called once.
func (s *Server) Start(ctx context.Context) error {
	if s.started.Swap(true) {
		panic("control: Server.Start called twice")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("control server: cannot listen on %s (--control; another tapwall on this port? pick another, or 127.0.0.1:0 for a free one): %w", s.cfg.Addr, err)
	}
	s.addr = ln.Addr().String()
	s.allowed = allowedHosts(s.host, ln.Addr().(*net.TCPAddr), s.cfg.AllowedHosts)
	s.ctx = ctx
	s.http = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          newStdLog(s.cfg.Log),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Log.Error().Err(err).Str("addr", s.addr).Msg("control server stopped")
		}
	}()
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		// Requests in flight see ctx ended (BaseContext) and return; hijacked connections (pages,
		// followers) end with ctx by themselves and are waited for here.
		sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
		s.http.Shutdown(sctx)
		cancel()
		s.http.Close()
		s.pagesMu.Lock()
		s.closing = true
		s.pagesMu.Unlock()
		s.conns.Wait()
	}()
	go func() {
		defer s.wg.Done()
		s.publish(ctx)
	}()
	s.cfg.Log.Info().Str("addr", s.addr).Str("url", "http://"+s.addr+"/").Bool("token", s.cfg.Token != "").
		Msg("control server listening: operator console at url")
	return nil
}

// Addr returns the bound address (host:port) once Start has returned, "" before.
func (s *Server) Addr() string { return s.addr }

// Wait blocks until the server has stopped after Start's context ended: the listener is closed
// and every goroutine it started (pages included) has returned.
func (s *Server) Wait() { s.wg.Wait() }

// handler returns the server's routes with every rule applied (Host, token, origin, methods).
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", s.get(authNone, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok"))
	}))
	mux.HandleFunc("/status", s.get(authHeader, s.serveStatus))
	mux.HandleFunc("/metrics", s.get(authHeader, func(w http.ResponseWriter, r *http.Request) {
		s.cfg.Show.Metrics().ServeHTTP(w, r)
	}))
	mux.HandleFunc("/live", s.get(authStream, s.serveLive))
	mux.HandleFunc("/api/input", s.post(s.serveInput))
	mux.HandleFunc("/promote", s.post(s.servePromote))
	if s.cfg.Follow != nil {
		mux.HandleFunc("/follow", s.get(authStream, s.serveFollow))
	}
	mux.HandleFunc("/", s.get(authNone, servePage))
	return s.checkHost(mux)
}

// status returns the show's status with the server's own fields filled in, and the contract's
// lists as lists (empty, never null) for scripts.
func (s *Server) status() Status {
	st := s.cfg.Show.Status()
	st.Control = s.addr
	if st.Alarms == nil {
		st.Alarms = []Alarm{}
	}
	if st.Frames == nil {
		st.Frames = []Frame{}
	}
	if st.Lanes == nil {
		st.Lanes = []Lane{}
	}
	return st
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.status())
}

// apiError is the JSON body of every refused API request.
type apiError struct {
	Error   string `json:"error"`             // stable code: bad_input, confirm, bad_token, forbidden, ...
	Message string `json:"message"`           // for people: what is wrong and what to do
	Action  string `json:"action,omitempty"`  // the action concerned (confirm)
	Confirm string `json:"confirm,omitempty"` // what confirm:true would confirm
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, e apiError) { writeJSON(w, code, e) }
