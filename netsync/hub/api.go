package hub

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"tapwall/game"
	"tapwall/netsync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Error codes of refused HTTP requests (the JSON body {"code","message"}), besides the protocol's
// bad_token, round_used and wall_in_use.
const (
	CodeBadHost        = "bad_host"         // 403: the Host header is not this scorehub's address
	CodeBadOrigin      = "bad_origin"       // 403: a cross-site or foreign-origin browser request
	CodeBadContentType = "bad_content_type" // 415: a state-changing request that is not application/json
	CodeBadRequest     = "bad_request"      // 400: malformed body, unknown field, trailing data, bad value
	CodeUnknownGame    = "unknown_game"     // 400: a start for a game the walls do not have
	CodeNotConnected   = "not_connected"    // 409: a command for a wall that is not connected
	CodeRoundRunning   = "round_running"    // 409: a start while the wall runs a round, without "replace"
	CodeTooManyPages   = "too_many_pages"   // 503: MaxPages live pages are open
)

// APIError is the JSON body of every refused HTTP request.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// StartRequest is the body of POST /api/start.
type StartRequest struct {
	Wall    string   `json:"wall"`
	Round   uint32   `json:"round"` // 0: the next after every round the hub knows of the wall
	Game    string   `json:"game"`
	Seed    uint64   `json:"seed"`
	AtUS    int64    `json:"at_us"`             // show time of the round's tick 0
	Names   []string `json:"names,omitempty"`   // contestants' names per lane (optional)
	Replace bool     `json:"replace,omitempty"` // allowed to end a round the wall is running
}

// AbortRequest is the body of POST /api/abort.
type AbortRequest struct {
	Wall  string `json:"wall"`
	Round uint32 `json:"round"`
}

// ResetEpochRequest is the body of POST /api/reset-epoch.
type ResetEpochRequest struct {
	Wall string `json:"wall"`
}

// ResetEpochResponse answers POST /api/reset-epoch.
type ResetEpochResponse struct {
	Wall     string `json:"wall"`
	OldEpoch uint64 `json:"old_epoch"`
	Epoch    uint64 `json:"epoch"`
}

// Handler serves the walls' WebSocket (/ws), the pages' (/live), the API (/api/...), /healthz,
// /metrics and the pages (/, /overlay, /director). Every request's Host must be one of
// HubConfig.Hosts; state-changing requests must be JSON, from no foreign origin, with the token.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.serveWall)
	mux.HandleFunc("GET /live", h.serveLive)
	mux.HandleFunc("GET /api/totals", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, h.store.Totals()) })
	mux.HandleFunc("GET /api/walls", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, h.Walls()) })
	mux.HandleFunc("POST /api/start", h.serveStart)
	mux.HandleFunc("POST /api/abort", h.serveAbort)
	mux.HandleFunc("POST /api/reset-epoch", h.serveResetEpoch)
	mux.HandleFunc("GET /healthz", h.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /{$}", servePage(pageHTML))
	mux.HandleFunc("GET /overlay", servePage(overlayHTML))
	mux.HandleFunc("GET /director", servePage(directorHTML))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.hostAllowed(r) {
			name, _ := splitHost(r.Host)
			h.apiError(w, r, http.StatusForbidden, CodeBadHost,
				fmt.Sprintf("Host %.80q is not this scorehub's address (DNS rebinding?); to serve it, start scorehub with --allowed-host %.80s", r.Host, name))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func servePage(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:")
		w.Write(b)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiError refuses a request: counted, logged (rate-limited) and answered with an APIError.
func (h *Hub) apiError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	h.mErrors.WithLabelValues(code).Inc()
	who, _, _ := net.SplitHostPort(r.RemoteAddr)
	h.logRefusal(who, code, fmt.Sprintf("%s %s refused (%d): %s", r.Method, r.URL.Path, status, msg))
	writeJSON(w, status, APIError{Code: code, Message: msg})
}

// splitHost returns a Host header's (or a --allowed-host's) name, lower case and without
// brackets, and its port ("" when it has none).
func splitHost(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	return strings.TrimSuffix(strings.ToLower(host), "."), port
}

// hostAllowed reports whether r's Host is one of the hub's names.
func (h *Hub) hostAllowed(r *http.Request) bool {
	host, port := splitHost(r.Host)
	if port == "" {
		port = "80"
		if r.TLS != nil {
			port = "443"
		}
	}
	for _, p := range h.cfg.Hosts {
		ph, pp := splitHost(p)
		if ph == host && (pp == "" || pp == port) {
			return true
		}
	}
	return false
}

// checkOrigin refuses a browser request from another site or origin; require refuses one with no
// Origin header at all (the pages' WebSocket: browsers always send it).
func checkOrigin(r *http.Request, require bool) error {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return fmt.Errorf("cross-site request (Sec-Fetch-Site: %.40s): only scorehub's own pages may do this", s)
	}
	o := r.Header.Get("Origin")
	if o == "" {
		if require {
			return errors.New("no Origin header: only scorehub's own pages may open this")
		}
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return fmt.Errorf("Origin %.80q is not this scorehub (%.80s)", o, r.Host)
	}
	return nil
}

// stateChanging checks what every state-changing request needs: a JSON body, no foreign origin,
// the token when one is set. It answers the request when it refuses it.
func (h *Hub) stateChanging(w http.ResponseWriter, r *http.Request) bool {
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		h.apiError(w, r, http.StatusUnsupportedMediaType, CodeBadContentType,
			fmt.Sprintf("Content-Type %.60q: send application/json", r.Header.Get("Content-Type")))
		return false
	}
	if err := checkOrigin(r, false); err != nil {
		h.apiError(w, r, http.StatusForbidden, CodeBadOrigin, err.Error())
		return false
	}
	if h.cfg.Token != "" && !tokenOK(r.Header.Get("Authorization"), "Bearer "+h.cfg.Token) {
		h.apiError(w, r, http.StatusUnauthorized, netsync.CodeBadToken, "wrong or missing token: send Authorization: Bearer TOKEN")
		return false
	}
	return true
}

// decodeBody parses a request body strictly: at most netsync.MaxMessage bytes, one JSON object,
// no unknown field, nothing after it.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, netsync.MaxMessage))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the JSON object")
		}
		return err
	}
	return nil
}

// commandError answers a refused command.
func (h *Hub) commandError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := http.StatusInternalServerError, netsync.CodeStore
	switch {
	case errors.Is(err, ErrBadRequest):
		status, code = http.StatusBadRequest, CodeBadRequest
	case errors.Is(err, ErrUnknownGame):
		status, code = http.StatusBadRequest, CodeUnknownGame
	case errors.Is(err, ErrNotConnected):
		status, code = http.StatusConflict, CodeNotConnected
	case errors.Is(err, ErrRoundUsed):
		status, code = http.StatusConflict, netsync.CodeRoundUsed
	case errors.Is(err, ErrRoundRunning):
		status, code = http.StatusConflict, CodeRoundRunning
	case errors.Is(err, ErrWallInUse):
		status, code = http.StatusConflict, netsync.CodeWallInUse
	}
	h.apiError(w, r, status, code, err.Error())
}

func (h *Hub) serveStart(w http.ResponseWriter, r *http.Request) {
	if !h.stateChanging(w, r) {
		return
	}
	var req StartRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.apiError(w, r, http.StatusBadRequest, CodeBadRequest, `want {"wall","round","game","seed","at_us","names","replace"}: `+err.Error())
		return
	}
	round, err := h.SendStart(req)
	if err != nil {
		h.commandError(w, r, err)
		return
	}
	req.Round = round
	writeJSON(w, http.StatusOK, req)
}

func (h *Hub) serveAbort(w http.ResponseWriter, r *http.Request) {
	if !h.stateChanging(w, r) {
		return
	}
	var req AbortRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.apiError(w, r, http.StatusBadRequest, CodeBadRequest, `want {"wall","round"}: `+err.Error())
		return
	}
	if err := h.SendAbort(req.Wall, req.Round); err != nil {
		h.commandError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

func (h *Hub) serveResetEpoch(w http.ResponseWriter, r *http.Request) {
	if !h.stateChanging(w, r) {
		return
	}
	var req ResetEpochRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.apiError(w, r, http.StatusBadRequest, CodeBadRequest, `want {"wall"}: `+err.Error())
		return
	}
	old, err := h.ResetEpoch(req.Wall)
	if err != nil {
		h.commandError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ResetEpochResponse{Wall: req.Wall, OldEpoch: old, Epoch: 0})
}

func (h *Hub) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	if h.ctx.Err() != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "stopping")
		return
	}
	if since := h.busySince.Load(); since != 0 && time.Since(time.Unix(0, since)) > stallAfter {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "stalled: a store commit has run for %v\n", time.Since(time.Unix(0, since)).Round(time.Second))
		return
	}
	fmt.Fprintln(w, "ok")
}

// roundRunning reports whether a wall's phase is that of a round under way.
func roundRunning(phase string) bool {
	return phase == "countdown" || phase == "running" || phase == "paused"
}

// SendStart relays a start command to a connected wall and returns the round number sent. A round
// of 0 is numbered after every round the hub knows of the wall (stored, started, reported by its
// hello or status); a round number already used is refused (ErrRoundUsed); while the wall reports
// a round under way, the start needs Replace (ErrRoundRunning). The number is recorded, fsynced,
// before the command goes out, so it is never given out twice.
func (h *Hub) SendStart(req StartRequest) (uint32, error) {
	if err := game.CheckWallID(req.Wall); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if !game.KnownGame(req.Game) {
		return 0, fmt.Errorf("%w %.40q: use one of %s", ErrUnknownGame, req.Game, strings.Join(game.Games[:], ", "))
	}
	if err := checkNames(req.Names); err != nil {
		return 0, fmt.Errorf("%w: names: %v", ErrBadRequest, err)
	}
	h.start.Lock()
	defer h.start.Unlock()
	h.mu.Lock()
	wc := h.walls[req.Wall]
	var reportedMax, statusRound uint32
	var reported bool
	phase := ""
	if in := h.info[req.Wall]; in != nil {
		reportedMax, reported = in.reportedMax, in.reported[req.Round]
		if in.status != nil {
			statusRound, phase = in.status.Round, in.status.Phase
		}
	}
	h.mu.Unlock()
	if wc == nil {
		return 0, fmt.Errorf("%w: wall %q", ErrNotConnected, req.Wall)
	}
	highest := max(h.store.MaxRound(req.Wall), reportedMax, statusRound)
	if req.Round == 0 {
		if highest == math.MaxUint32 {
			return 0, fmt.Errorf("%w: wall %q has used every round number", ErrBadRequest, req.Wall)
		}
		req.Round = highest + 1
	} else if reported || req.Round == statusRound || h.store.RoundUsed(req.Wall, req.Round) {
		return 0, fmt.Errorf("%w: wall %q round %d is stored, started or held by the wall already; the next free round is %d (or leave round out)",
			ErrRoundUsed, req.Wall, req.Round, min(highest, math.MaxUint32-1)+1)
	}
	if roundRunning(phase) && !req.Replace {
		return 0, fmt.Errorf(`%w: wall %q is in round %d (%s); send "replace":true (start-round --replace) to end it`, ErrRoundRunning, req.Wall, statusRound, phase)
	}
	if err := h.store.MarkStarted(req.Wall, req.Round); err != nil {
		return 0, err
	}
	if !h.send(wc, netsync.Message{Type: netsync.TypeStart, Round: req.Round, Game: req.Game, Seed: req.Seed, AtUS: req.AtUS,
		Names: req.Names, Replace: req.Replace}) {
		return 0, fmt.Errorf("%w: wall %q's connection was dropped; round %d stays used", ErrNotConnected, req.Wall, req.Round)
	}
	h.cfg.Log.Info().Str("wall", req.Wall).Uint32("round", req.Round).Str("game", req.Game).Uint64("seed", req.Seed).
		Int64("at_us", req.AtUS).Strs("names", req.Names).Bool("replace", req.Replace).Msg("start command sent")
	h.markDirty()
	return req.Round, nil
}

// SendAbort relays an abort of round to a connected wall.
func (h *Hub) SendAbort(wall string, round uint32) error {
	if err := game.CheckWallID(wall); err != nil || round == 0 {
		return fmt.Errorf("%w: want a wall id and a round >= 1", ErrBadRequest)
	}
	h.mu.Lock()
	wc := h.walls[wall]
	h.mu.Unlock()
	if wc == nil {
		return fmt.Errorf("%w: wall %q", ErrNotConnected, wall)
	}
	if !h.send(wc, netsync.Message{Type: netsync.TypeAbort, Round: round}) {
		return fmt.Errorf("%w: wall %q's connection was dropped", ErrNotConnected, wall)
	}
	h.cfg.Log.Warn().Str("wall", wall).Uint32("round", round).Msg("abort command sent")
	return nil
}

// ResetEpoch forgets wall's fencing epoch, for a new show day on machines whose epoch starts
// again at 1; the next hello sets it. It is refused (ErrWallInUse) while a connection of the
// wall is open, so it can never let a revived old primary in beside the current one. It returns
// the old epoch, which is logged.
func (h *Hub) ResetEpoch(wall string) (uint64, error) {
	if err := game.CheckWallID(wall); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	unlock := h.admit.lock(wall)
	defer unlock()
	h.mu.Lock()
	wc := h.walls[wall]
	h.mu.Unlock()
	if wc != nil {
		return 0, fmt.Errorf("%w: wall %q is connected from %s at epoch %d; stop its machines first", ErrWallInUse, wall, wc.remote, wc.epoch)
	}
	old, err := h.store.ResetEpoch(wall)
	if err != nil {
		return 0, err
	}
	h.cfg.Log.Warn().Str("wall", wall).Uint64("old_epoch", old).Msg("wall epoch reset: the next hello sets it")
	h.markDirty()
	return old, nil
}

func tokenOK(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
