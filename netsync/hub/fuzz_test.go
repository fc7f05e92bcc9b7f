package hub

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"tapwall/netsync"
	"testing"

	"github.com/gorilla/websocket"
)

// protocolCodes are the error codes a wall may be sent.
var protocolCodes = map[string]bool{netsync.CodeBadToken: true, netsync.CodeBadVersion: true, netsync.CodeNeedHello: true,
	netsync.CodeBadJSON: true, netsync.CodeBadEvent: true, netsync.CodeGap: true, netsync.CodeTooBig: true, netsync.CodeStore: true,
	netsync.CodeWallInUse: true, netsync.CodeFenced: true, netsync.CodeConflict: true}

// FuzzHubMessage feeds arbitrary bytes to the hub as one wall connection's messages, through the
// same decode-and-handle path as /ws and the committer: the first line is the hello, each further
// line one message (a line starting with 0xFF is a binary frame). Whatever arrives, the hub must
// not panic, must answer only with acks for the connection's wall, time responses and errors of
// the protocol's codes, and must never store a gap.
func FuzzHubMessage(f *testing.F) {
	line := func(m netsync.Message) []byte { b, _ := json.Marshal(m); return b }
	hello := line(netsync.Message{Type: netsync.TypeHello, Version: 1, Wall: "fz", Acked: []netsync.RoundSeq{{Round: 1, Seq: 0}}})
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, []byte("\n")) }
	score := func(r uint32, s uint64) []byte { return line(netsync.ScoreMessage(genEvent("fz", r, s))) }
	st := line(netsync.Message{Type: netsync.TypeStatus, Status: &netsync.WallStatus{Role: "primary", Round: 1, Phase: "running",
		Lanes: []netsync.LaneStatus{{Name: "A", Score: 3}}}})
	f.Add(join(hello, score(1, 1), score(1, 2), score(1, 2), score(1, 4), st, line(netsync.Message{Type: netsync.TypeTimeReq, T1: 5})))
	f.Add(join(hello, []byte(`{"type":"score","wall":"fz","round":1,"seq":1,"lane":0,"colour":1}`), []byte("\xff"+string(score(1, 1)))))
	f.Add(join(line(netsync.Message{Type: netsync.TypeHello, Version: 1, Wall: "fz", Epoch: 3}), score(2, 1), []byte(`{"type":"score","epoch":1}`)))
	f.Add(join(hello, []byte(`{"type":"status","status":{"lanes":[{"name":"\u0001"}]}}`), []byte(`{"type":"hello"}`), []byte(`[]`)))
	f.Add(join([]byte(`{"type":"hello","version":1,"wall":"../x"}`)))
	f.Add(join(hello, []byte(`{"type":"score","wall":"fz","round":4294967295,"seq":18446744073709551615,"lane":15,"delta":-9223372036854775808}`)))
	s, err := openStore(filepath.Join(f.TempDir(), "fuzz.db"), true)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	h := NewHub(s, HubConfig{Token: ""})
	sc := newScratch()
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs := bytes.SplitN(data, []byte("\n"), 17)
		frame := func(b []byte) (int, []byte) {
			if len(b) > 0 && b[0] == 0xFF {
				return websocket.BinaryMessage, b[1:]
			}
			return websocket.TextMessage, b
		}
		typ, b := frame(msgs[0])
		m, ref := h.checkHello(typ, b)
		if ref != nil {
			if !protocolCodes[ref.code] || ref.close == 0 {
				t.Fatalf("hello refused with %+v", ref)
			}
			return
		}
		epoch := max(m.Epoch, 1)
		if hi := s.Epoch(m.Wall); epoch < hi {
			return // admission fences it
		}
		s.RaiseEpoch(m.Wall, epoch)
		wc := newWallConn(m.Wall, epoch, "fuzz", nil, 1024)
		for _, raw := range msgs[1:] {
			typ, b := frame(raw)
			if h.handle(wc, typ, b) {
				break
			}
		}
		var batch []commitReq
		for len(h.in) > 0 {
			batch = append(batch, <-h.in)
		}
		if len(batch) > 0 {
			h.commit(batch, sc)
		}
		for len(wc.out) > 0 {
			out := <-wc.out
			switch out.Type {
			case netsync.TypeAck:
				if out.Wall != wc.wall {
					t.Fatalf("ack for wall %q on %q's connection", out.Wall, wc.wall)
				}
			case netsync.TypeTimeResp:
			case netsync.TypeError:
				if !protocolCodes[out.Code] {
					t.Fatalf("error code %q is not a protocol code", out.Code)
				}
			default:
				t.Fatalf("the hub sent %+v", out)
			}
		}
		for _, w := range s.Totals().Walls {
			for _, r := range w.Rounds {
				if uint64(r.Events) != s.StoredSeq(w.Wall, r.Round) {
					t.Fatalf("wall %s round %d: %d events stored up to seq %d: a gap was stored", w.Wall, r.Round, r.Events, s.StoredSeq(w.Wall, r.Round))
				}
			}
		}
	})
}
