// Command pageshots feeds a running scorehub a show (two walls: one on air mid-round with
// contestants' names, status and scores, one whose link is down) and writes screenshots of its
// broadcast overlay (overlay.png, transparent background, 1920x1080) and its director's page
// (director.png, 1920x1080) taken in headless Chromium. scripts/screenshots-pages.sh runs it; it is
// not part of the scorehub binary.
//
//	go run ./cmd/scorehub/internal/pageshots --server http://127.0.0.1:8090 --out DIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"tapwall/game"
	"tapwall/internal/browser"
	"tapwall/netsync"
)

func main() {
	server := flag.String("server", "http://127.0.0.1:8090", "the running scorehub")
	out := flag.String("out", ".", "directory for overlay.png and director.png")
	token := flag.String("token", "", "the scorehub's token")
	flag.Parse()
	if err := run(*server, *out, *token); err != nil {
		fmt.Fprintln(os.Stderr, "pageshots:", err)
		os.Exit(1)
	}
}

// wall is a wall's connection, as the wall's client speaks it.
type wall struct {
	id   string
	conn *websocket.Conn
	seq  uint64
}

func dial(server, id, token string, epoch uint64) (*wall, error) {
	url := "ws" + strings.TrimPrefix(strings.TrimSuffix(server, "/"), "http") + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	c.WriteJSON(netsync.Message{Type: netsync.TypeHello, Version: netsync.ProtocolVersion, Wall: id, Token: token, Epoch: epoch})
	var m netsync.Message
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.ReadJSON(&m); err != nil || m.Type != netsync.TypeWelcome {
		c.Close()
		return nil, fmt.Errorf("hello as %s: %+v %v", id, m, err)
	}
	return &wall{id: id, conn: c}, nil
}

// score sends one event and waits for its ack.
func (w *wall) score(round uint32, lane int, delta, total int64, reason string) error {
	w.seq++
	e := game.ScoreEvent{Wall: w.id, Round: round, Seq: w.seq, Tick: int64(w.seq) * 40, Lane: lane, Delta: delta, Total: total, Reason: reason}
	if err := w.conn.WriteJSON(netsync.ScoreMessage(e)); err != nil {
		return err
	}
	var m netsync.Message
	if err := w.conn.ReadJSON(&m); err != nil || m.Type != netsync.TypeAck {
		return fmt.Errorf("score %d of %s: %+v %v", w.seq, w.id, m, err)
	}
	return nil
}

// play sends the events of a round reaching totals and returns the lanes as the wall reports them.
func (w *wall) play(round uint32, names []string, totals []int64) ([]netsync.LaneStatus, error) {
	lanes := make([]netsync.LaneStatus, len(totals))
	for lane, want := range totals {
		var sum int64
		for sum < want {
			d := min(int64(10+5*(lane+int(w.seq)%4)), want-sum)
			sum += d
			if err := w.score(round, lane, d, sum, game.ReasonTarget); err != nil {
				return nil, err
			}
		}
		lanes[lane] = netsync.LaneStatus{Name: names[lane], Score: sum}
	}
	return lanes, nil
}

func run(server, out, token string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// The wall on air: round 7 of the rain game, 23 s left, four contestants.
	stage, err := dial(server, "stage-1", token, 2)
	if err != nil {
		return err
	}
	defer stage.conn.Close()
	lanes, err := stage.play(7, []string{"Amira", "Jonas", "Keiko", "Mateo"}, []int64{340, 415, 290, 375})
	if err != nil {
		return err
	}
	st := netsync.WallStatus{Role: "primary", Epoch: 2, Round: 7, Phase: "running", Game: "rain", NextGame: "targets",
		Tick: 2220, LeftMS: 23_000, LengthMS: 60_000, Lanes: lanes}
	if err := stage.conn.WriteJSON(netsync.Message{Type: netsync.TypeStatus, Status: &st}); err != nil {
		return err
	}
	// A rehearsal wall whose link is down, after a finished round.
	rehearsal, err := dial(server, "rehearsal", token, 0)
	if err != nil {
		return err
	}
	rl, err := rehearsal.play(2, []string{"Lane 1", "Lane 2"}, []int64{120, 95})
	if err != nil {
		return err
	}
	rst := netsync.WallStatus{Role: "primary", Epoch: 1, Round: 2, Phase: "finished", Game: "targets", LengthMS: 60_000, Lanes: rl}
	rst.Lanes[0].Rank, rst.Lanes[1].Rank = 1, 2
	rehearsal.conn.WriteJSON(netsync.Message{Type: netsync.TypeStatus, Status: &rst})
	rehearsal.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	rehearsal.conn.ReadMessage() // let the status land before the link goes
	rehearsal.conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := browser.Start(ctx)
	if errors.Is(err, browser.ErrNoBrowser) {
		return err
	}
	if err != nil {
		return fmt.Errorf("chromium: %w", err)
	}
	defer b.Close()
	base := strings.TrimSuffix(server, "/")
	shots := []struct {
		file, path, ready string
		transparent       bool
	}{
		{"overlay.png", "/overlay?wall=stage-1", `document.querySelectorAll(".lane").length === 4 &&
			[...document.querySelectorAll(".lane .score")].every(s => s.textContent === s.dataset.target) &&
			document.getElementById("time").textContent !== ""`, true},
		{"director.png", "/director", `document.querySelectorAll("section.wall").length === 2 &&
			document.querySelector('[data-wall="rehearsal"] [data-field="link"]').textContent === "link down"`, false},
	}
	for _, s := range shots {
		p, err := b.Open(ctx, base+s.path, 1920, 1080, s.transparent)
		if err != nil {
			return err
		}
		if err := p.WaitFor(ctx, s.ready); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		png, err := p.Screenshot(ctx)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, s.file), png, 0o644); err != nil {
			return err
		}
		fmt.Println(filepath.Join(out, s.file))
	}
	return nil
}
