package hub

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/internal/testbin"
)

var binDir string // holds scorehub

// TestMain builds scorehub for the crash tests, and runs the crash helper when asked to.
func TestMain(m *testing.M) {
	if os.Getenv("TAPWALL_CRASH_HELPER") != "" {
		os.Exit(crashHelper())
	}
	testbin.Main(m, &binDir, testbin.Cmd{Pkg: "../../cmd/scorehub"})
}

// crashHelper is a wall streaming events 1..N of round 1 through a real outbox and client; after
// a restart it continues after what its outbox holds. It prints "progress SUBMITTED DEPTH" lines
// and "done" once everything is acknowledged.
func crashHelper() int {
	url, dir, wall := os.Getenv("HELPER_URL"), os.Getenv("HELPER_DIR"), os.Getenv("HELPER_WALL")
	n, _ := strconv.ParseUint(os.Getenv("HELPER_N"), 10, 64)
	ob, err := netsync.OpenOutbox(dir, 0, zerolog.Nop())
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	cl, _ := netsync.NewClient(netsync.ClientConfig{URL: url, Wall: wall, Outbox: ob, Log: zerolog.Nop(), MaxBackoff: 100 * time.Millisecond})
	ctx := context.Background()
	go ob.Run(ctx)
	go cl.Run(ctx)
	next := ob.LastSeq(wall, 1) + 1
	t := time.NewTicker(3 * time.Millisecond)
	for {
		for i := 0; i < 50 && next <= n; i++ {
			ob.SubmitWait(ctx, genEvent(wall, 1, next))
			next++
		}
		<-t.C
		d := ob.Depth()
		fmt.Printf("progress %d %d\n", next-1, d)
		if next > n && d == 0 {
			fmt.Println("done")
			return 0
		}
	}
}

type proc struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
}

func startHelper(t *testing.T, url, dir string, n uint64) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TAPWALL_CRASH_HELPER=1", "HELPER_URL="+url, "HELPER_DIR="+dir, "HELPER_WALL=crash",
		fmt.Sprintf("HELPER_N=%d", n))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &proc{cmd: cmd, lines: bufio.NewScanner(out)}
}

// until reads the helper's progress until it has submitted at least k events (or is done).
func (p *proc) until(t *testing.T, k uint64) bool {
	for p.lines.Scan() {
		var sub uint64
		var depth int
		if p.lines.Text() == "done" {
			return true
		}
		if _, err := fmt.Sscanf(p.lines.Text(), "progress %d %d", &sub, &depth); err == nil && sub >= k {
			return false
		}
	}
	return false
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startScorehub(t *testing.T, addr, db string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "scorehub"), "--listen", addr, "--db", db)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "scorehub up", 10*time.Second, func() bool {
		r, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	})
	return cmd
}

// TestCrashesLoseNothingAndDoubleNothing kills the streaming wall with SIGKILL at random points,
// and scorehub too, restarting both; at the end the backend's totals are exactly the events' sum.
func TestCrashesLoseNothingAndDoubleNothing(t *testing.T) {
	const n = 6000
	dir, db, addr := t.TempDir(), filepath.Join(t.TempDir(), "scores.db"), freePort(t)
	url := "ws://" + addr + "/ws"
	hub := startScorehub(t, addr, db)
	defer func() { hub.Process.Signal(syscall.SIGKILL); hub.Wait() }()
	rng := rand.New(rand.NewPCG(7, 7))
	for round := 0; round < 8; round++ {
		h := startHelper(t, url, dir, n)
		if h.until(t, uint64(rng.IntN(n))) {
			h.kill()
			break
		}
		h.kill()          // the wall dies mid-stream
		if round%2 == 1 { // and every other time the backend too
			hub.Process.Signal(syscall.SIGKILL)
			hub.Wait()
			hub = startScorehub(t, addr, db)
		}
	}
	h := startHelper(t, url, dir, n)
	done := make(chan bool, 1)
	go func() { done <- h.until(t, n+1) }()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("the helper ended without acknowledging everything")
		}
	case <-time.After(60 * time.Second):
		h.kill()
		t.Fatal("timed out waiting for every event to be acknowledged")
	}
	h.cmd.Wait()
	hub.Process.Signal(syscall.SIGKILL)
	hub.Wait()
	st, err := OpenStore(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkTotals(t, st, "crash", 1, n)
	if !strings.Contains(fmt.Sprint(st.Acked("crash")), fmt.Sprint(n)) {
		t.Fatalf("acked %v", st.Acked("crash"))
	}
}
