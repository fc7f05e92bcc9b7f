package logs

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

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
