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
	srv := &http.Server{Handler: hub.Handler()}
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
