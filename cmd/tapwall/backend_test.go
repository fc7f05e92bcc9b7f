package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
	scorehub "tapwall/netsync/hub"
)

func hub(t *testing.T, token string) (string, *scorehub.Store) {
	t.Helper()
	st, err := scorehub.OpenStore(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := scorehub.NewHub(st, scorehub.HubConfig{Token: token, Log: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: h.Handler()}
	go h.Run(ctx)
	go srv.Serve(ln)
	t.Cleanup(func() { cancel(); srv.Close(); st.Close() })
	return "ws://" + ln.Addr().String() + "/ws", st
}

func TestSimStreamsToTheBackend(t *testing.T) {
	url, st := hub(t, "tok")
	dir := t.TempDir()
	out, stderr, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--seed", "7", "--ticks", "1200",
		"--backend", url, "--wall", "sim-wall", "--token", "tok", "--outbox", filepath.Join(dir, "ob"), "--round", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum game.Summary
	json.Unmarshal([]byte(out), &sum)
	tot := st.Totals()
	if len(tot.Walls) != 1 || tot.Walls[0].Wall != "sim-wall" || tot.Walls[0].Rounds[0].Round != 4 || tot.Walls[0].Rounds[0].Events != sum.Events {
		t.Fatalf("backend totals %+v for summary %+v", tot, sum)
	}
	for _, l := range tot.Walls[0].Rounds[0].Lanes {
		if l.Score != sum.Scores[l.Lane].Score {
			t.Fatalf("lane %d: backend %d, sim %d", l.Lane, l.Score, sum.Scores[l.Lane].Score)
		}
	}
	// Run it again: every event is a duplicate, acknowledged and not counted twice.
	if _, stderr, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--seed", "7", "--ticks", "1200",
		"--backend", url, "--wall", "sim-wall", "--token", "tok", "--outbox", filepath.Join(dir, "ob2"), "--round", "4"); code != 0 {
		t.Fatalf("second run: exit %d %s", code, stderr)
	}
	if again := st.Totals(); again.Walls[0].Rounds[0].Events != sum.Events {
		t.Fatalf("a resent round was counted twice: %+v", again)
	}
}

func TestSimExit3WhenNotAcknowledged(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there
	start := time.Now()
	out, stderr, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--seed", "7", "--ticks", "1200",
		"--backend", "ws://"+addr+"/ws", "--wall", "w", "--outbox", filepath.Join(t.TempDir(), "ob"), "--flush-timeout", "500ms")
	if code != 3 || !strings.Contains(stderr, "not acknowledged") || !strings.Contains(out, `"events"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var sum game.Summary
	json.Unmarshal([]byte(out), &sum)
	if !strings.Contains(stderr, strconv.Itoa(sum.Events)+" score events") || time.Since(start) > 20*time.Second {
		t.Fatalf("stderr %q should count the %d outstanding events", stderr, sum.Events)
	}
	// A bad URL is a usage error.
	if _, _, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--backend", "http://x"); code != 2 {
		t.Fatalf("--backend http://: exit %d", code)
	}
}
