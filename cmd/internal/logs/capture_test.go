package logs

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestCaptureStderrLogsWhatCWritesToFD2: bytes written straight to file descriptor 2 (as Xlib
// does from C) come out as JSON log events, one per line.
func TestCaptureStderrLogsWhatCWritesToFD2(t *testing.T) {
	var buf lockedBuf
	log, _ := New(&buf, "json", "info")
	stop, err := CaptureStderr(log)
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(2, []byte("X Error of failed request:  BadWindow (invalid Window parameter)\n  Major opcode: 18\n"))
	stop()
	lines := strings.Split(strings.TrimSpace(buf.b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 log events, got %q", buf.b.String())
	}
	var ev struct{ Level, Source, Message string }
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil || ev.Source != "stderr" || !strings.HasPrefix(ev.Message, "X Error") {
		t.Fatalf("event %s (%v)", lines[0], err)
	}
}

// TestCaptureStderrKeepsDrainingAfterAnOverlongLine: a line longer than the scanner takes does not
// stop the capture from reading file descriptor 2: writes after it (Xlib's, the runtime's crash
// report) never block on a full pipe, and the overlong line is logged as an error.
func TestCaptureStderrKeepsDrainingAfterAnOverlongLine(t *testing.T) {
	var buf lockedBuf
	log, _ := New(&buf, "json", "info")
	stop, err := CaptureStderr(log)
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		long := append(bytes.Repeat([]byte("x"), 100<<10), '\n')
		if _, err := unix.Write(2, long); err != nil {
			wrote <- err
			return
		}
		// Four times a pipe's default capacity (64 KiB): blocks unless something reads.
		line := append(bytes.Repeat([]byte("y"), 1<<10), '\n')
		for i := 0; i < 256; i++ {
			if _, err := unix.Write(2, line); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		if err != nil {
			stop()
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writes to fd 2 after an overlong line blocked: nothing drains the pipe") // stop would block too
	}
	stop()
	if s := buf.b.String(); !strings.Contains(s, `"level":"error"`) || !strings.Contains(s, "too long") {
		t.Fatalf("the overlong line is not logged as an error:\n%.500s", s)
	}
}
