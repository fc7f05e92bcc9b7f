package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tapwall/game"
	"tapwall/internal/testbin"
	"tapwall/netsync/hub"
)

var binDir string // holds scorehub

func TestMain(m *testing.M) {
	testbin.Main(m, &binDir, testbin.Cmd{Pkg: "."})
}

// goodStore writes a real store: 40 rounds of 100 events (hundreds of bbolt pages), an epoch and
// a started round.
func goodStore(t *testing.T) []byte {
	t.Helper()
	db := filepath.Join(t.TempDir(), "good.db")
	st, err := hub.OpenStore(db)
	if err != nil {
		t.Fatal(err)
	}
	for r := uint32(1); r <= 40; r++ {
		evs := make([]game.ScoreEvent, 0, 100)
		for s := uint64(1); s <= 100; s++ {
			evs = append(evs, game.ScoreEvent{Wall: "stage", Round: r, Seq: s, Tick: int64(s), Lane: int(s % 4), Delta: 10, Total: int64(s) * 10, Reason: game.ReasonTarget})
		}
		if _, err := st.Commit(evs); err != nil {
			t.Fatal(err)
		}
	}
	st.RaiseEpoch("stage", 2)
	st.MarkStarted("stage", 41)
	st.Close()
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bboltPage returns the offset of the nth page (from 0) whose header says flags (bbolt's layout:
// id uint64, flags uint16, count uint16, overflow uint32, then the elements).
func bboltPage(t *testing.T, b []byte, flags uint16, nth int) int {
	t.Helper()
	ps := int(binary.LittleEndian.Uint32(b[24:])) // the meta page's page size
	for i := 2; (i+1)*ps <= len(b); i++ {
		p := b[i*ps:]
		if binary.LittleEndian.Uint64(p) == uint64(i) && binary.LittleEndian.Uint16(p[8:]) == flags {
			if nth == 0 {
				return i * ps
			}
			nth--
		}
	}
	t.Fatalf("the store has no page %d with flags %#x", nth, flags)
	return 0
}

// TestDamagedStoreExitsTwoNamingIt: scorehub started on a damaged store exits 2 with one line
// naming the file, for every kind of damage, including one that makes bbolt fault (a fatal
// SIGSEGV that no recover catches: the check runs in a child process).
func TestDamagedStoreExitsTwoNamingIt(t *testing.T) {
	good := goodStore(t)
	const leaf, branch = 0x02, 0x01
	for _, tc := range []struct {
		name    string
		damage  func(b []byte) []byte
		crashed bool // bbolt faults reading it
	}{
		{"truncated to a third", func(b []byte) []byte { return b[:len(b)/3] }, false},
		{"both meta pages zeroed", func(b []byte) []byte { clear(b[:2*4096]); return b }, false},
		{"leaf element past the mapping", func(b []byte) []byte {
			o := bboltPage(t, b, leaf, 3)
			binary.LittleEndian.PutUint32(b[o+16+4:], 0x7ffffff0) // pos of element 0
			return b
		}, true},
		{"branch child beyond the file", func(b []byte) []byte {
			o := bboltPage(t, b, branch, 0)
			binary.LittleEndian.PutUint64(b[o+16+8:], 1<<40)
			return b
		}, false},
		{"garbage over a leaf", func(b []byte) []byte {
			o := bboltPage(t, b, leaf, 5)
			for i := 16; i < 4096; i++ {
				b[o+i] = byte(i * 7)
			}
			return b
		}, false},
		{"freelist count", func(b []byte) []byte {
			for meta := 0; meta < 2; meta++ { // the freelist pages both meta pages name
				o := int(binary.LittleEndian.Uint64(b[meta*4096+48:])) * 4096
				binary.LittleEndian.PutUint16(b[o+10:], 0xffff)
				binary.LittleEndian.PutUint64(b[o+16:], 1<<40)
			}
			return b
		}, true}, // a fatal "out of memory" throw
		{"huge value size", func(b []byte) []byte {
			o := bboltPage(t, b, leaf, 2)
			binary.LittleEndian.PutUint32(b[o+16+12:], 0x7fffffff)
			return b
		}, false},
		{"unknown page type", func(b []byte) []byte {
			o := bboltPage(t, b, branch, 0)
			binary.LittleEndian.PutUint16(b[o+8:], 0x40)
			return b
		}, false},
		{"an event that is not JSON", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "scores.db")
			if tc.damage != nil {
				os.WriteFile(db, tc.damage(append([]byte{}, good...)), 0o600)
			} else {
				os.WriteFile(db, good, 0o600)
				st, err := hub.OpenStore(db)
				if err != nil {
					t.Fatal(err)
				}
				st.Close()
				damageEventJSON(t, db)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(binDir, "scorehub"), "--listen", "127.0.0.1:0", "--db", db)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			msg := stderr.String()
			if code != 2 || !strings.Contains(msg, db) || strings.Contains(msg, "goroutine ") || strings.Count(msg, "\n") != 1 {
				t.Fatalf("exit %d (%v), want 2 and one line naming %s:\n%s", code, err, db, msg)
			}
			if tc.crashed != strings.Contains(msg, "crashed the check") {
				t.Fatalf("crashed %v expected: %s", tc.crashed, msg)
			}
			t.Log(strings.TrimSpace(msg))
		})
	}
	// The good store passes the check and is served.
	db := filepath.Join(t.TempDir(), "scores.db")
	os.WriteFile(db, good, 0o600)
	var out, errb bytes.Buffer
	if code := checkDB([]string{"--db", db}, &out, &errb); code != 0 || !strings.Contains(out.String(), "ok") {
		t.Fatalf("check-db on a good store: exit %d %s%s", code, out.String(), errb.String())
	}
	addr := freeAddr(t)
	p := startProcess(t, "--listen", addr, "--db", db)
	defer p.stop(t)
	resp, err := http.Get("http://" + addr + "/api/totals")
	if err != nil {
		t.Fatal(err)
	}
	var tot hub.Totals
	decode(t, resp, &tot)
	if len(tot.Walls) != 1 || len(tot.Walls[0].Rounds) != 40 || tot.Walls[0].Rounds[39].Events != 100 {
		t.Fatalf("the good store served %+v", tot)
	}
}

// damageEventJSON overwrites one stored event with bytes that are not JSON, through bbolt itself.
func damageEventJSON(t *testing.T, db string) {
	t.Helper()
	if err := corruptOneEvent(db); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type process struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	exited chan error
}

// startProcess runs scorehub with args until it answers /healthz on its --listen address.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "scorehub"), args...)
	p := &process{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	addr := ""
	for i, a := range args {
		if a == "--listen" {
			addr = args[i+1]
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("scorehub did not come up: %v\n%s", err, p.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop ends scorehub with SIGTERM; it must exit 0 within 5 s.
func (p *process) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("scorehub exited with %v after SIGINT\n%s", err, p.stderr)
		}
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		t.Fatal("scorehub did not stop within 5 s of SIGINT")
	}
}

// TestAllowedHostFlag: the process answers to its --listen address and to every --allowed-host
// (repeatable, comma lists), and refuses any other Host with 403 bad_host.
func TestAllowedHostFlag(t *testing.T) {
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	p := startProcess(t, "--listen", addr, "--db", filepath.Join(t.TempDir(), "s.db"), "--allowed-host", "scores.studio.lan,ob.lan:"+port, "--allowed-host", "10.9.8.7")
	defer p.stop(t)
	for host, want := range map[string]int{
		addr: 200, "localhost:" + port: 200, "scores.studio.lan:" + port: 200, "ob.lan:" + port: 200, "10.9.8.7:" + port: 200,
		"ob.lan:1": 403, "evil.example:" + port: 403, "127.0.0.2:" + port: 403,
	} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/walls", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e hub.APIError
		decode(t, resp, &e)
		if resp.StatusCode != want || (want == 403 && e.Code != hub.CodeBadHost) {
			t.Fatalf("Host %s: %d %+v, want %d", host, resp.StatusCode, e, want)
		}
	}
	var errb bytes.Buffer
	if code := serve([]string{"--db", filepath.Join(t.TempDir(), "x.db"), "--allowed-host", "http://x/"}, &errb); code != 2 {
		t.Fatalf("a URL as --allowed-host: exit %d", code)
	}
}

// TestStoreHeldByAnotherScorehub: a second scorehub on the same store exits 2 saying so.
func TestStoreHeldByAnotherScorehub(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	p := startProcess(t, "--listen", freeAddr(t), "--db", db)
	defer p.stop(t)
	cmd := exec.Command(filepath.Join(binDir, "scorehub"), "--listen", freeAddr(t), "--db", db)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), db) || !strings.Contains(stderr.String(), "another scorehub") {
		t.Fatalf("second scorehub on one store: exit %d: %s", code, stderr.String())
	}
}
