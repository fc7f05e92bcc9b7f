package hub

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"tapwall/game"
	"tapwall/netsync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

// wallConn is one wall's WebSocket. Its reader is the handler's goroutine, its writer writeWall;
// everything else reaches the wall through out, without ever blocking (send).
type wallConn struct {
	wall   string
	epoch  uint64
	remote string
	conn   *websocket.Conn // nil in the fuzz target
	out    chan netsync.Message
	kill   chan struct{} // closed by kick: the writer sends what is left and stops
	done   chan struct{} // closed when the writer has stopped
	pong   chan struct{} // a pong arrived (for probe)
	once   sync.Once

	// Set by kick before kill closes.
	final     *netsync.Message
	closeCode int
	closeText string
	hard      bool
}

func newWallConn(wall string, epoch uint64, remote string, conn *websocket.Conn, buffer int) *wallConn {
	return &wallConn{wall: wall, epoch: epoch, remote: remote, conn: conn, out: make(chan netsync.Message, buffer),
		kill: make(chan struct{}), done: make(chan struct{}), pong: make(chan struct{}, 1)}
}

// kick ends the connection. A soft kick lets the writer send what is queued, then final (if any)
// and a close frame with code, within closeGrace; a hard one closes the socket at once (a peer
// that does not read gets nothing more). Only the first kick counts: it reports whether it was.
func (w *wallConn) kick(final *netsync.Message, code int, text string, hard bool) (first bool) {
	return w.kickThen(nil, final, code, text, hard)
}

// kickThen is kick; the first kick calls then (when not nil) before the writer learns of it, so
// that what a kick counts is counted before the peer can see the kick.
func (w *wallConn) kickThen(then func(), final *netsync.Message, code int, text string, hard bool) (first bool) {
	w.once.Do(func() {
		first = true
		if then != nil {
			then()
		}
		w.final, w.closeCode, w.closeText, w.hard = final, code, text, hard
		close(w.kill)
		if hard && w.conn != nil {
			w.conn.Close()
		}
	})
	return first
}

// refusal is why a connection is refused: an error message, then a close frame.
type refusal struct {
	code  string
	close int
	msg   string
	epoch uint64 // fenced: the wall's epoch
}

var errTooBig = errors.New("message too big")

// readMessage reads one message of at most limit bytes into buf, without reading more of a
// bigger one than limit+1 bytes (gorilla's own read limit would close with 1009 before the
// protocol's too_big could be sent).
func readMessage(conn *websocket.Conn, buf *bytes.Buffer, limit int) (int, []byte, error) {
	typ, r, err := conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return 0, nil, err
	}
	if n > int64(limit) {
		return typ, nil, errTooBig
	}
	return typ, buf.Bytes(), nil
}

// decodeStrict parses one wall message: a JSON object with a type, no unknown field (a typo is an
// error, not a silent zero), nothing after it.
func decodeStrict(b []byte) (netsync.Message, error) {
	var m netsync.Message
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return netsync.Message{}, fmt.Errorf("not a protocol message: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return netsync.Message{}, errors.New("not a protocol message: data after the JSON object")
	}
	if m.Type == "" {
		return netsync.Message{}, errors.New(`not a protocol message: no "type"`)
	}
	return m, nil
}

// checkHello validates a connection's first message.
func (h *Hub) checkHello(typ int, b []byte) (netsync.Message, *refusal) {
	if typ != websocket.TextMessage {
		return netsync.Message{}, &refusal{code: netsync.CodeNeedHello, close: websocket.CloseProtocolError, msg: "the first message must be a hello, as JSON in a text frame"}
	}
	m, err := decodeStrict(b)
	switch {
	case err != nil:
		return m, &refusal{code: netsync.CodeNeedHello, close: websocket.CloseProtocolError, msg: "the first message must be a hello: " + err.Error()}
	case m.Type != netsync.TypeHello:
		return m, &refusal{code: netsync.CodeNeedHello, close: websocket.CloseProtocolError, msg: fmt.Sprintf("the first message must be a hello, not %.40q", m.Type)}
	case m.Version != netsync.ProtocolVersion:
		return m, &refusal{code: netsync.CodeBadVersion, close: websocket.CloseProtocolError, msg: fmt.Sprintf("protocol version %d; this backend speaks %d", m.Version, netsync.ProtocolVersion)}
	case h.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(m.Token), []byte(h.cfg.Token)) != 1:
		return m, &refusal{code: netsync.CodeBadToken, close: websocket.ClosePolicyViolation, msg: "wrong token"}
	}
	if err := game.CheckWallID(m.Wall); err != nil {
		return m, &refusal{code: netsync.CodeNeedHello, close: websocket.CloseProtocolError, msg: "hello: " + err.Error()}
	}
	return m, nil
}

// refuse sends a refusal on a connection that has no writer, and closes it.
func (h *Hub) refuse(conn *websocket.Conn, who string, r refusal) {
	h.mErrors.WithLabelValues(r.code).Inc()
	h.logRefusal(who, r.code, "wall refused: "+r.msg)
	conn.SetWriteDeadline(time.Now().Add(netsync.WriteWait))
	conn.WriteJSON(netsync.Message{Type: netsync.TypeError, Code: r.code, Message: r.msg, Epoch: r.epoch})
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(r.close, closeText(r.msg)), time.Now().Add(closeGrace))
	conn.Close()
}

// closeText fits a close frame's reason (a control frame carries at most 125 bytes).
func closeText(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

func (h *Hub) serveWall(w http.ResponseWriter, r *http.Request) {
	if err := checkOrigin(r, false); err != nil {
		h.apiError(w, r, http.StatusForbidden, CodeBadOrigin, err.Error())
		return
	}
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, HandshakeTimeout: netsync.WriteWait,
		CheckOrigin: func(*http.Request) bool { return true }} // checked above
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	if !h.track(conn) {
		conn.Close()
		return
	}
	defer h.untrack(conn)
	conn.SetReadDeadline(time.Now().Add(HelloWait))
	var buf bytes.Buffer
	typ, b, err := readMessage(conn, &buf, netsync.MaxMessage)
	if errors.Is(err, errTooBig) {
		h.refuse(conn, r.RemoteAddr, refusal{code: netsync.CodeTooBig, close: websocket.CloseMessageTooBig, msg: fmt.Sprintf("message over %d bytes", netsync.MaxMessage)})
		return
	}
	if err != nil {
		return
	}
	hello, ref := h.checkHello(typ, b)
	if ref != nil {
		h.refuse(conn, r.RemoteAddr, *ref)
		return
	}
	epoch := max(hello.Epoch, 1)
	wc := newWallConn(hello.Wall, epoch, r.RemoteAddr, conn, h.cfg.SendBuffer)
	log := h.cfg.Log.With().Str("wall", hello.Wall).Str("remote", r.RemoteAddr).Uint64("epoch", epoch).Logger()

	unlock := h.admit.lock(hello.Wall)
	if ref := h.admitWall(wc, log); ref != nil {
		unlock()
		h.refuse(conn, hello.Wall, *ref)
		return
	}
	h.mu.Lock()
	in := h.infoOf(hello.Wall)
	in.remote = r.RemoteAddr
	in.reported, in.reportedMax = map[uint32]bool{}, 0
	for _, a := range hello.Acked {
		in.reported[a.Round] = true
		in.reportedMax = max(in.reportedMax, a.Round)
	}
	h.mu.Unlock()
	welcome := netsync.Message{Type: netsync.TypeWelcome, Version: netsync.ProtocolVersion,
		Acked: h.store.AckedFor(hello.Wall, hello.Acked), MaxRound: h.store.MaxRound(hello.Wall)}
	conn.SetWriteDeadline(time.Now().Add(netsync.WriteWait))
	err = conn.WriteJSON(welcome)
	unlock()
	h.mConns.Inc()
	h.markDirty()
	if err == nil {
		log.Info().Int("rounds_asked", len(hello.Acked)).Uint32("max_round", welcome.MaxRound).Msg("wall connected")
		go h.writeWall(wc)
		h.readWall(wc, &buf)
	} else {
		close(wc.done)
	}
	wc.kick(nil, 0, "", true) // the reader ended: the connection is dead or closing; the writer stops
	<-wc.done
	h.mu.Lock()
	if h.walls[wc.wall] == wc {
		delete(h.walls, wc.wall)
	}
	h.mu.Unlock()
	h.mConns.Dec()
	h.markDirty()
	log.Info().Msg("wall disconnected")
}

// admitWall decides whether wc may be the wall's connection, and registers it. The caller holds
// the wall's admission lock. A lower epoch than the wall's is fenced; a higher one is recorded and
// fences the open connection; at the same epoch an open connection that answers a ping within
// ProbeWait keeps the wall and the newcomer is refused with wall_in_use.
func (h *Hub) admitWall(wc *wallConn, log zerolog.Logger) *refusal {
	for attempt := 0; attempt < 3; attempt++ {
		hi := h.store.Epoch(wc.wall)
		if wc.epoch < hi {
			return &refusal{code: netsync.CodeFenced, close: websocket.ClosePolicyViolation, msg: fmt.Sprintf("epoch %d is below wall %s's epoch %d: another machine is primary", wc.epoch, wc.wall, hi), epoch: hi}
		}
		if wc.epoch > hi {
			if _, err := h.store.RaiseEpoch(wc.wall, wc.epoch); err != nil {
				log.Error().Err(err).Msg("could not record the wall's new epoch")
				return &refusal{code: netsync.CodeStore, close: websocket.CloseInternalServerErr, msg: "the backend could not record the epoch; retry"}
			}
			log.Warn().Uint64("old_epoch", hi).Msg("wall epoch raised: older connections are fenced")
			h.markDirty()
		}
		h.mu.Lock()
		old := h.walls[wc.wall]
		if old == nil || old.epoch < wc.epoch {
			h.walls[wc.wall] = wc
			h.mu.Unlock()
			if old != nil {
				h.fence(old, old.epoch, wc.epoch)
			}
			return nil
		}
		h.mu.Unlock()
		if h.probe(old) {
			return &refusal{code: netsync.CodeWallInUse, close: websocket.CloseTryAgainLater, msg: fmt.Sprintf("wall %s is connected from %s at epoch %d and answers pings: two machines with one wall id?", wc.wall, old.remote, old.epoch)}
		}
		log.Warn().Str("old_remote", old.remote).Msg("the wall's open connection failed a ping: replaced")
		h.mDropped.WithLabelValues("no_pong").Inc()
		h.mu.Lock()
		if h.walls[wc.wall] == old {
			delete(h.walls, wc.wall)
		}
		h.mu.Unlock()
		old.kick(nil, 0, "", true)
	}
	return &refusal{code: netsync.CodeWallInUse, close: websocket.CloseTryAgainLater, msg: fmt.Sprintf("wall %s is connected", wc.wall)}
}

// probe pings wc and reports whether it answers within ProbeWait.
func (h *Hub) probe(wc *wallConn) bool {
	select {
	case <-wc.pong:
	default:
	}
	if wc.conn.WriteControl(websocket.PingMessage, []byte("probe"), time.Now().Add(ProbeWait)) != nil {
		return false
	}
	t := time.NewTimer(ProbeWait)
	defer t.Stop()
	select {
	case <-wc.pong:
		return true
	case <-t.C:
	case <-wc.kill:
	case <-h.ctx.Done():
	}
	return false
}

// fence ends a connection whose epoch is below the wall's: error fenced, close 1008; counted and
// logged once per connection.
func (h *Hub) fence(wc *wallConn, got, epoch uint64) {
	msg := fmt.Sprintf("epoch %d is below wall %s's epoch %d: another machine is primary", got, wc.wall, epoch)
	counted := func() {
		h.mErrors.WithLabelValues(netsync.CodeFenced).Inc()
		h.logRefusal(wc.wall, netsync.CodeFenced, "connection fenced: "+msg)
	}
	wc.kickThen(counted, &netsync.Message{Type: netsync.TypeError, Code: netsync.CodeFenced, Message: msg, Epoch: epoch}, websocket.ClosePolicyViolation, "fenced", false)
}

// send queues m for wc without blocking; a connection whose queue is full is dropped.
func (h *Hub) send(wc *wallConn, m netsync.Message) bool {
	select {
	case <-wc.kill:
		return false
	default:
	}
	select {
	case wc.out <- m:
		return true
	default:
		h.mDropped.WithLabelValues("slow").Inc()
		h.logRefusal(wc.wall, "slow", fmt.Sprintf("connection dropped: %d messages unread (it reconnects and resends)", cap(wc.out)))
		wc.kick(nil, 0, "", true)
		return false
	}
}

// sendError counts, logs (rate-limited) and queues an error for wc.
func (h *Hub) sendError(wc *wallConn, code, msg string) {
	h.sendErrorOf(wc, netsync.Message{Type: netsync.TypeError, Code: code, Message: msg})
}

// sendErrorOf is sendError for an error that names more than its code (gap and conflict: the
// round and seq; fenced: the epoch).
func (h *Hub) sendErrorOf(wc *wallConn, m netsync.Message) {
	h.mErrors.WithLabelValues(m.Code).Inc()
	h.logRefusal(wc.wall, m.Code, "error sent to wall: "+m.Message)
	h.send(wc, m)
}

// readWall is a wall connection's only reader; it returns when the connection ends.
func (h *Hub) readWall(wc *wallConn, buf *bytes.Buffer) {
	conn := wc.conn
	extend := func() { conn.SetReadDeadline(time.Now().Add(h.cfg.PongWait)) }
	extend()
	conn.SetPongHandler(func(string) error {
		extend()
		select {
		case wc.pong <- struct{}{}:
		default:
		}
		return nil
	})
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(netsync.WriteWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	for {
		typ, b, err := readMessage(conn, buf, netsync.MaxMessage)
		if errors.Is(err, errTooBig) {
			msg := fmt.Sprintf("message over %d bytes", netsync.MaxMessage)
			h.mErrors.WithLabelValues(netsync.CodeTooBig).Inc()
			h.logRefusal(wc.wall, netsync.CodeTooBig, "connection closed: "+msg)
			wc.kick(&netsync.Message{Type: netsync.TypeError, Code: netsync.CodeTooBig, Message: msg}, websocket.CloseMessageTooBig, "message too big", false)
			<-wc.done
			return
		}
		if err != nil {
			return
		}
		extend()
		if h.handle(wc, typ, b) {
			return
		}
	}
}

// handle acts on one message from a wall; it reports whether the connection must stop reading.
func (h *Hub) handle(wc *wallConn, typ int, b []byte) (stop bool) {
	t2 := h.cfg.Now()
	if typ != websocket.TextMessage {
		h.sendError(wc, netsync.CodeBadJSON, "binary frame: protocol messages are JSON objects in text frames")
		return false
	}
	m, err := decodeStrict(b)
	if err != nil {
		h.sendError(wc, netsync.CodeBadJSON, err.Error())
		return false
	}
	switch m.Type {
	case netsync.TypeScore:
		hi, epoch := h.store.Epoch(wc.wall), wc.epoch
		if m.Epoch != 0 {
			epoch = m.Epoch
		}
		if epoch < hi || wc.epoch < hi { // the wall has moved on to another machine
			h.fence(wc, min(epoch, wc.epoch), hi)
			return true
		}
		if epoch != wc.epoch {
			h.sendError(wc, netsync.CodeBadEvent, fmt.Sprintf("score with epoch %d on a connection at epoch %d: the hello sets the epoch", m.Epoch, wc.epoch))
			return false
		}
		ev, err := netsync.EventOf(&m)
		if err == nil && ev.Wall != wc.wall {
			err = fmt.Errorf("score for wall %.80q on the connection of wall %q", ev.Wall, wc.wall)
		}
		if err != nil {
			h.sendError(wc, netsync.CodeBadEvent, err.Error())
			return false
		}
		select {
		case h.in <- commitReq{ev: ev, wc: wc}:
		case <-wc.kill:
			return true
		case <-wc.done:
			return true
		case <-h.ctx.Done():
			return true
		}
	case netsync.TypeTimeReq:
		h.send(wc, netsync.Message{Type: netsync.TypeTimeResp, T1: m.T1, T2: t2}) // T3 is stamped by the writer
	case netsync.TypeStatus:
		if hi := h.store.Epoch(wc.wall); wc.epoch < hi { // a fenced machine's picture is not the show's
			h.fence(wc, wc.epoch, hi)
			return true
		}
		if m.Status == nil {
			h.sendError(wc, netsync.CodeBadJSON, `status message without "status"`)
			return false
		}
		if m.Wall != "" && m.Wall != wc.wall {
			h.sendError(wc, netsync.CodeBadEvent, fmt.Sprintf("status for wall %.80q on the connection of wall %q", m.Wall, wc.wall))
			return false
		}
		if err := checkStatus(m.Status); err != nil {
			h.sendError(wc, netsync.CodeBadEvent, "status: "+err.Error())
			return false
		}
		h.mu.Lock()
		in := h.infoOf(wc.wall)
		in.status, in.statusAt = m.Status, time.Now()
		h.mu.Unlock()
		h.markDirty()
	default:
		h.sendError(wc, netsync.CodeBadJSON, fmt.Sprintf("unexpected message type %.40q from a wall", m.Type))
	}
	return false
}

// Limits of a status message's strings.
const (
	maxNameLen  = 64 // a lane's or contestant's name, in bytes
	maxWordLen  = 32 // role, phase, game
	maxNameList = game.MaxLanes
)

// checkStatus checks a wall's status for what the pages can show.
func checkStatus(s *netsync.WallStatus) error {
	if len(s.Lanes) > game.MaxLanes {
		return fmt.Errorf("%d lanes, at most %d", len(s.Lanes), game.MaxLanes)
	}
	for _, w := range []struct{ name, v string }{{"role", s.Role}, {"phase", s.Phase}, {"game", s.Game}, {"next_game", s.NextGame}} {
		if err := checkText(w.v, maxWordLen); err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
	}
	for i, l := range s.Lanes {
		if err := checkText(l.Name, maxNameLen); err != nil {
			return fmt.Errorf("lane %d name: %w", i, err)
		}
		if l.Rank < 0 || l.Rank > game.MaxLanes {
			return fmt.Errorf("lane %d rank %d outside 0..%d", i, l.Rank, game.MaxLanes)
		}
	}
	if s.CountdownMS < 0 || s.LeftMS < 0 || s.LengthMS < 0 {
		return errors.New("negative countdown_ms, left_ms or length_ms")
	}
	return nil
}

// checkNames checks a start's contestant names.
func checkNames(names []string) error {
	if len(names) > maxNameList {
		return fmt.Errorf("%d names, at most %d (one per lane)", len(names), maxNameList)
	}
	for i, n := range names {
		if err := checkText(n, maxNameLen); err != nil {
			return fmt.Errorf("name %d: %w", i+1, err)
		}
	}
	return nil
}

// checkText refuses a string that is too long, not UTF-8 or has control characters.
func checkText(s string, maxLen int) error {
	if len(s) > maxLen {
		return fmt.Errorf("%d bytes, at most %d", len(s), maxLen)
	}
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 || r == 0x7F {
			return fmt.Errorf("%q: invalid UTF-8 or a control character", s)
		}
	}
	return nil
}

// writeWall is a wall connection's only writer: acks, errors, time responses, commands and pings.
// It stops when kicked (sending what is left within closeGrace), when a write fails or times out,
// or when the hub stops; done closes then.
func (h *Hub) writeWall(wc *wallConn) {
	defer close(wc.done)
	defer wc.conn.Close()
	ping := time.NewTicker(h.cfg.PingPeriod)
	defer ping.Stop()
	for {
		select {
		case m := <-wc.out:
			if !h.writeMsg(wc, m, time.Now().Add(netsync.WriteWait)) {
				return
			}
		case <-ping.C:
			if wc.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(netsync.WriteWait)) != nil {
				return
			}
		case <-wc.kill:
			if wc.hard {
				return
			}
			deadline := time.Now().Add(closeGrace)
			for len(wc.out) > 0 {
				if !h.writeMsg(wc, <-wc.out, deadline) {
					return
				}
			}
			if wc.final != nil && !h.writeMsg(wc, *wc.final, deadline) {
				return
			}
			wc.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(wc.closeCode, closeText(wc.closeText)), deadline)
			return
		case <-h.ctx.Done():
			goingAway(wc.conn)
			return
		}
	}
}

func (h *Hub) writeMsg(wc *wallConn, m netsync.Message, deadline time.Time) bool {
	if m.Type == netsync.TypeTimeResp {
		m.T3 = h.cfg.Now()
	}
	wc.conn.SetWriteDeadline(deadline)
	return wc.conn.WriteJSON(m) == nil
}
