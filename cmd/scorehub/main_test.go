package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"tapwall/netsync"
	"tapwall/netsync/hub"
)

func TestStartRoundReachesTheWall(t *testing.T) {
	st, err := hub.OpenStore(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hub := hub.NewHub(st, hub.HubConfig{Token: "tk", Log: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := hub.Server()
	go srv.Serve(ln)
	defer srv.Close()
	ob, _ := netsync.OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	defer ob.Close()
	cl, _ := netsync.NewClient(netsync.ClientConfig{URL: "ws://" + ln.Addr().String() + "/ws", Wall: "W", Token: "tk", Outbox: ob, Log: zerolog.Nop()})
	go ob.Run(ctx)
	go cl.Run(ctx)
	server := "http://" + ln.Addr().String()
	var out, errb bytes.Buffer
	deadline := time.Now().Add(10 * time.Second)
	for !cl.Status().Connected { // bounded wait for the wall's connection
		if time.Now().After(deadline) {
			t.Fatal("wall never connected")
		}
		time.Sleep(2 * time.Millisecond)
	}
	before := time.Now()
	if code := startRound([]string{"--server", server, "--wall", "W", "--at", "+2s", "--game", "rain", "--seed", "42", "--token", "tk"}, &out, &errb); code != 0 {
		t.Fatalf("start-round exit %d: %s", code, errb.String())
	}
	var resp struct {
		Round uint32 `json:"round"`
		AtUS  int64  `json:"at_us"`
	}
	json.Unmarshal(out.Bytes(), &resp)
	select {
	case m := <-cl.Commands():
		if m.Type != netsync.TypeStart || m.Round != 1 || m.Game != "rain" || m.Seed != 42 || m.AtUS != resp.AtUS {
			t.Fatalf("command %+v, response %+v", m, resp)
		}
		if d := time.UnixMicro(m.AtUS).Sub(before); d < 1900*time.Millisecond || d > 3*time.Second {
			t.Fatalf("--at +2s gave a start %v from now", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no start command reached the wall")
	}
	// Names reach the wall; a used round is refused with round_used, exit 1.
	out.Reset()
	if code := startRound([]string{"--server", server, "--wall", "W", "--names", "Ann, Bo,Cy,Di", "--replace", "--token", "tk"}, &out, &errb); code != 0 {
		t.Fatalf("start-round --names: exit %d: %s", code, errb.String())
	}
	select {
	case m := <-cl.Commands():
		if m.Round != 2 || !m.Replace || strings.Join(m.Names, "|") != "Ann|Bo|Cy|Di" {
			t.Fatalf("start with names: %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no second start reached the wall")
	}
	errb.Reset()
	if code := startRound([]string{"--server", server, "--wall", "W", "--round", "2", "--token", "tk"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "round_used") {
		t.Fatalf("start-round of a used round: exit %d: %s", code, errb.String())
	}
	if code := abortRound([]string{"--server", server, "--wall", "W", "--round", "1", "--token", "tk"}, &out, &errb); code != 0 {
		t.Fatalf("abort-round exit %d: %s", code, errb.String())
	}
	select {
	case m := <-cl.Commands():
		if m.Type != netsync.TypeAbort || m.Round != 1 {
			t.Fatalf("abort command %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no abort command reached the wall")
	}
	// Wrong token, unknown wall, bad --at: refused.
	for _, args := range [][]string{
		{"--server", server, "--wall", "W", "--token", "nope"},
		{"--server", server, "--wall", "nobody", "--token", "tk"},
	} {
		errb.Reset()
		if code := startRound(args, &out, &errb); code != 1 {
			t.Fatalf("%v: exit %d %s", args, code, errb.String())
		}
	}
	if code := startRound([]string{"--wall", "W", "--at", "soon"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--at") {
		t.Fatalf("bad --at: exit %d", code)
	}
}

func TestServeUsageErrors(t *testing.T) {
	var errb bytes.Buffer
	if code := serve([]string{"--listen", "127.0.0.1:0"}, &errb); code != 2 {
		t.Fatalf("no --db: exit %d", code)
	}
	if code := serve([]string{"--db", filepath.Join(t.TempDir(), "x.db"), "--listen", "256.0.0.1:1"}, &errb); code != 2 {
		t.Fatalf("bad --listen: exit %d", code)
	}
}

func decode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(v)
}

// TestResetEpochCommand: reset-epoch is refused (exit 1, wall_in_use) while the wall is connected,
// and with the wall away prints the old epoch and lets a machine at epoch 1 in again.
func TestResetEpochCommand(t *testing.T) {
	st, err := hub.OpenStore(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := hub.NewHub(st, hub.HubConfig{Log: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := h.Server()
	go srv.Serve(ln)
	defer srv.Close()
	server := "http://" + ln.Addr().String()
	url := "ws://" + ln.Addr().String() + "/ws"
	dial := func(epoch uint64) (*websocket.Conn, netsync.Message) {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.WriteJSON(netsync.Message{Type: netsync.TypeHello, Version: netsync.ProtocolVersion, Wall: "W", Epoch: epoch})
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m netsync.Message
		c.ReadJSON(&m)
		return c, m
	}
	c, m := dial(4)
	if m.Type != netsync.TypeWelcome {
		t.Fatalf("hello at epoch 4: %+v", m)
	}
	var out, errb bytes.Buffer
	if code := resetEpoch([]string{"--server", server, "--wall", "W"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "wall_in_use") {
		t.Fatalf("reset-epoch while connected: exit %d %q", code, errb.String())
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		errb.Reset()
		out.Reset()
		code := resetEpoch([]string{"--server", server, "--wall", "W"}, &out, &errb)
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reset-epoch after the wall left: exit %d %s", code, errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var r hub.ResetEpochResponse
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.OldEpoch != 4 || r.Epoch != 0 || r.Wall != "W" {
		t.Fatalf("reset-epoch printed %q (%v)", out.String(), err)
	}
	if _, m := dial(0); m.Type != netsync.TypeWelcome {
		t.Fatalf("a new day's machine at epoch 1 after the reset: %+v", m)
	}
	if code := resetEpoch([]string{"--server", server}, &out, &errb); code != 2 {
		t.Fatalf("reset-epoch without --wall: exit %d", code)
	}
}
