package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/cmd/internal/control"
)

// stubShow is a Show for the status and promote commands; a standby when standby is set.
type stubShow struct {
	mu   sync.Mutex
	role string
}

func (s *stubShow) Status() control.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return control.Status{Role: s.role, Wall: "wall-7", Epoch: 1, Round: 2, Phase: "running", Tick: 99, Alarms: []control.Alarm{}}
}
func (s *stubShow) Input(context.Context, []byte) (int64, error) { return 0, nil }
func (s *stubShow) Metrics() http.Handler                        { return http.NotFoundHandler() }

type stubStandby struct{ *stubShow }

func (s stubStandby) Promote(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.role != "standby" {
		return control.ErrNotStandby
	}
	s.role = "primary"
	return nil
}

// controlServer starts a control server for show on a free loopback port.
func controlServer(t *testing.T, show control.Show, token string) string {
	t.Helper()
	s, err := control.New(control.Config{Addr: "127.0.0.1:0", Token: token, Show: show, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Wait() })
	return s.Addr()
}

// freeAddr returns a loopback address where nothing listens.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

func TestStatusCommand(t *testing.T) {
	addr := controlServer(t, &stubShow{role: "primary"}, "")
	out, errs, code := tapwall(t, nil, "status", "--control", addr)
	var st control.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Role != "primary" || st.Wall != "wall-7" || st.Control != addr {
		t.Fatalf("status: exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("status prints one line: %q", out)
	}
	if out2, _, code := inProcess("status", "--control", "http://"+addr+"/"); code != 0 || out2 != out {
		t.Fatalf("status with a URL: exit %d %q", code, out2)
	}

	// With a token: refused without it (exit 2 naming the flag), printed with it.
	taddr := controlServer(t, &stubShow{role: "primary"}, "tt-1")
	out, errs, code = tapwall(t, nil, "status", "--control", taddr)
	if code != 2 || out != "" || !strings.Contains(errs, "--control-token") {
		t.Fatalf("status without the token: exit %d\n%s\n%s", code, out, errs)
	}
	if out, errs, code = tapwall(t, nil, "status", "--control", taddr, "--control-token", "tt-1"); code != 0 || !strings.Contains(out, `"role":"primary"`) {
		t.Fatalf("status with the token: exit %d\n%s\n%s", code, out, errs)
	}

	// Nothing there: exit 2 naming the address.
	dead := freeAddr(t)
	out, errs, code = tapwall(t, nil, "status", "--control", dead)
	if code != 2 || out != "" || !strings.Contains(errs, "nothing answers at "+dead) {
		t.Fatalf("status of nothing: exit %d\n%s\n%s", code, out, errs)
	}
	// Something that accepts and never answers: exit 2 after --timeout.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t0 := time.Now()
	out, errs, code = tapwall(t, nil, "status", "--control", l.Addr().String(), "--timeout", "300ms")
	if code != 2 || out != "" || !strings.Contains(errs, "no answer") || !strings.Contains(errs, l.Addr().String()) || time.Since(t0) > 5*time.Second {
		t.Fatalf("status of a silent server: exit %d after %v\n%s\n%s", code, time.Since(t0), out, errs)
	}
	// The default address and the flags are in the help.
	if _, errs, code := inProcess("status", "-h"); code != 0 || !strings.Contains(errs, control.DefaultAddr) || !strings.Contains(errs, "-control-token") {
		t.Fatalf("status -h: exit %d\n%s", code, errs)
	}
	if _, errs, code := inProcess("status", "extra"); code != 2 || !strings.Contains(errs, `unexpected argument "extra"`) {
		t.Fatalf("status extra: exit %d %s", code, errs)
	}
}

func TestPromoteCommand(t *testing.T) {
	primary := controlServer(t, &stubShow{role: "primary"}, "")
	out, errs, code := tapwall(t, nil, "promote", "--control", primary)
	if code != 2 || out != "" || !strings.Contains(errs, "not a standby") {
		t.Fatalf("promote a primary: exit %d\n%s\n%s", code, out, errs)
	}
	standby := controlServer(t, stubStandby{&stubShow{role: "standby"}}, "pt")
	if out, errs, code := tapwall(t, nil, "promote", "--control", standby); code != 2 || out != "" || !strings.Contains(errs, "--control-token") {
		t.Fatalf("promote without the token: exit %d\n%s\n%s", code, out, errs)
	}
	out, errs, code = tapwall(t, nil, "promote", "--control", standby, "--control-token", "pt")
	var st control.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Role != "primary" || st.Control != standby {
		t.Fatalf("promote a standby: exit %d\n%s\n%s", code, out, errs)
	}
	if now, _, _ := tapwall(t, nil, "status", "--control", standby, "--control-token", "pt"); now != out {
		t.Fatalf("promote prints %q, status then prints %q: want the same line", out, now)
	}
	dead := freeAddr(t)
	if out, errs, code := tapwall(t, nil, "promote", "--control", dead); code != 2 || out != "" || !strings.Contains(errs, dead) {
		t.Fatalf("promote nothing: exit %d\n%s\n%s", code, out, errs)
	}
}
