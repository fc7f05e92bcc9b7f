package logs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// CaptureStderr routes what C code writes to file descriptor 2 (Xlib's and GLFW's error messages,
// printed by Ebiten's backend) through log, one event per line with "source":"stderr", so a JSON
// log stays JSON. Go's own output keeps the real standard error: os.Stderr is pointed at a copy of
// it, and so are the runtime's crash reports (debug.SetCrashOutput), which must never wait on a
// goroutine. stop restores file descriptor 2 and returns once every captured line is logged.
func CaptureStderr(log zerolog.Logger) (stop func(), err error) {
	orig, err := unix.Dup(2)
	if err != nil {
		return nil, fmt.Errorf("logs: dup stderr: %w", err)
	}
	realErr := os.NewFile(uintptr(orig), "/dev/stderr")
	r, w, err := os.Pipe()
	if err != nil {
		realErr.Close()
		return nil, fmt.Errorf("logs: pipe: %w", err)
	}
	if err := unix.Dup2(int(w.Fd()), 2); err != nil {
		realErr.Close()
		r.Close()
		w.Close()
		return nil, fmt.Errorf("logs: dup2: %w", err)
	}
	saved := os.Stderr
	os.Stderr = realErr
	debug.SetCrashOutput(realErr, debug.CrashOptions{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			log.Warn().Str("source", "stderr").Msg(sc.Text())
		}
		if err := sc.Err(); err != nil {
			log.Error().Err(err).Str("source", "stderr").Msg("fd 2 capture: a line too long to log (over 64 KiB); what C writes to fd 2 from now on is dropped")
		}
		// Whatever happens, the pipe is read to its end: a writer on fd 2 (Xlib, the runtime's
		// crash report) must never block on a full pipe.
		io.Copy(io.Discard, r)
	}()
	return func() {
		unix.Dup2(orig, 2) // fd 2 is the real stderr again; the pipe's last writer is w
		w.Close()
		<-done
		r.Close()
		debug.SetCrashOutput(nil, debug.CrashOptions{})
		os.Stderr = saved
		realErr.Close() // SetCrashOutput kept a copy of its own; os.Stderr no longer points at it
	}, nil
}

// Stderr writes to whatever os.Stderr is at the time of the write: the logger of a program that
// calls CaptureStderr writes through it, so its own events go to the real standard error, not
// back into the capture.
var Stderr stderrWriter

type stderrWriter struct{}

// Write writes p to the current os.Stderr.
func (stderrWriter) Write(p []byte) (int, error) { return os.Stderr.Write(p) }
