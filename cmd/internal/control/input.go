package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// IsDestructive reports whether a console action needs "confirm":true, as its key needs a second
// key: abort (ends the round), quit (ends the show) and adjust (changes a score).
func IsDestructive(action string) bool {
	return action == "abort" || action == "quit" || action == "adjust"
}

// ConsoleSource is the source every console input is applied with.
const ConsoleSource = "console"

// parseInput checks one console input line (POST /api/input's body): a JSON object with "action"
// (or "kind" for a touch) and no "tick". A destructive action (IsDestructive) without
// "confirm":true returns confirm=false and the line unchanged. Otherwise it returns the line to
// give Show.Input: "confirm" removed and "source":"console" set. The action's own fields are the
// show's to check.
func parseInput(body []byte) (line []byte, action string, confirmed bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, "", false, fmt.Errorf(`want one JSON object, e.g. {"action":"start"}: %v`, errOrNull(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", false, errors.New("want one JSON object, not several")
	}
	if _, ok := m["tick"]; ok {
		return nil, "", false, errors.New(`a console input has no "tick": it is applied at the next tick`)
	}
	if raw, ok := m["action"]; ok {
		if json.Unmarshal(raw, &action) != nil || action == "" {
			return nil, "", false, errors.New(`"action" must be a non-empty string, e.g. "start"`)
		}
	} else if _, ok := m["kind"]; !ok {
		return nil, "", false, errors.New(`a line needs "action" (start, pause, resume, abort, next_game, takeover, adjust, ...) or "kind" (a touch)`)
	}
	if raw, ok := m["confirm"]; ok {
		if json.Unmarshal(raw, &confirmed) != nil {
			return nil, "", false, errors.New(`"confirm" must be true or false`)
		}
		delete(m, "confirm")
	}
	if IsDestructive(action) && !confirmed {
		return body, action, false, nil
	}
	m["source"] = json.RawMessage(`"` + ConsoleSource + `"`)
	line, err = json.Marshal(m)
	return line, action, true, err
}

func errOrNull(err error) string {
	if err == nil {
		return "got null"
	}
	return err.Error()
}

// serveInput is POST /api/input: one console input, applied at the next tick.
func (s *Server) serveInput(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, apiError{Error: "bad_input", Message: "reading the body: " + err.Error()})
		return
	}
	line, action, confirmed, err := parseInput(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, apiError{Error: "bad_input", Message: err.Error()})
		return
	}
	if !confirmed {
		q := s.question(action, body)
		writeError(w, http.StatusConflict, apiError{Error: "confirm", Action: action, Confirm: q,
			Message: `destructive action: send the same line with "confirm":true to ` + q})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.InputTimeout)
	defer cancel()
	tick, err := s.cfg.Show.Input(ctx, line)
	switch {
	case err == nil:
	case errors.Is(err, ErrBadInput):
		writeError(w, http.StatusBadRequest, apiError{Error: "bad_input", Action: action, Message: err.Error()})
		return
	case errors.Is(err, ErrNotNow):
		writeError(w, http.StatusConflict, apiError{Error: "refused", Action: action, Message: err.Error()})
		return
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		s.cfg.Log.Error().Str("action", action).Str("remote", r.RemoteAddr).Dur("waited", s.cfg.InputTimeout).
			Msg("console input not taken: the frame loop did not answer (frozen?)")
		writeError(w, http.StatusServiceUnavailable, apiError{Error: "timeout", Action: action,
			Message: "the frame loop did not take the input within " + s.cfg.InputTimeout.String() + ": frames may be frozen; use the keyboard"})
		return
	default:
		writeError(w, http.StatusInternalServerError, apiError{Error: "failed", Action: action, Message: err.Error()})
		return
	}
	s.cfg.Log.Info().Str("action", action).RawJSON("input", line).Int64("tick", tick).Str("remote", r.RemoteAddr).
		Msg("console input")
	s.changed()
	writeJSON(w, http.StatusOK, struct {
		Tick int64 `json:"tick"`
	}{tick})
}

// question says what confirming a destructive action does, for the 409 answer and the page.
func (s *Server) question(action string, body []byte) string {
	st := s.cfg.Show.Status()
	switch action {
	case "abort":
		return fmt.Sprintf("abort round %d (%s) on wall %s", st.Round, st.Phase, st.Wall)
	case "quit":
		return "quit tapwall on wall " + st.Wall + ": the show window closes"
	case "adjust":
		var a struct {
			Lane  *int   `json:"lane"`
			Delta *int64 `json:"delta"`
		}
		json.Unmarshal(body, &a)
		if a.Lane == nil || a.Delta == nil {
			return "adjust a lane's score"
		}
		name := "lane " + strconv.Itoa(*a.Lane+1)
		for _, l := range st.Lanes {
			if l.Index == *a.Lane && l.Name != "" && !strings.EqualFold(l.Name, name) {
				name += " (" + l.Name + ")"
			}
		}
		return fmt.Sprintf("change the score of %s by %+d", name, *a.Delta)
	}
	return action
}

// servePromote is POST /promote: promote a standby to primary and answer its new status.
func (s *Server) servePromote(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body) // the body carries nothing (an empty object by convention)
	p, ok := s.cfg.Show.(Promoter)
	if !ok {
		writeError(w, http.StatusConflict, apiError{Error: "not_standby", Message: "this show is not a standby: nothing to promote"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), DefaultPromoteTimeout)
	defer cancel()
	s.cfg.Log.Warn().Str("remote", r.RemoteAddr).Msg("promotion requested on the control server")
	if err := p.Promote(ctx); err != nil {
		code, e := http.StatusConflict, "refused"
		switch {
		case errors.Is(err, ErrNotStandby):
			e = "not_standby"
		case errors.Is(err, context.DeadlineExceeded):
			code, e = http.StatusServiceUnavailable, "timeout"
		}
		s.cfg.Log.Error().Err(err).Str("remote", r.RemoteAddr).Msg("promotion refused")
		writeError(w, code, apiError{Error: e, Message: err.Error()})
		return
	}
	s.changed()
	writeJSON(w, http.StatusOK, s.status())
}

// serveFollow mounts Config.Follow: the token query parameter is removed. The request's context
// ends when the server stops: it descends from Start's context (BaseContext), hijacked or not.
func (s *Server) serveFollow(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("token") {
		q := r.URL.Query()
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		r = r.Clone(r.Context())
		r.URL = &u
		r.RequestURI = u.RequestURI()
	}
	if !s.track() {
		writeError(w, http.StatusServiceUnavailable, apiError{Error: "stopping", Message: "the control server is stopping"})
		return
	}
	defer s.untrack()
	s.cfg.Follow.ServeHTTP(w, r)
}
