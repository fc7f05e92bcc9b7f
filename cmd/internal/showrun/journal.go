package showrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
	"tapwall/internal/durable"
)

// JournalQueueAlarm is how much journal data may wait in memory for a slow disk before the operator
// is told: minutes of the busiest round. Nothing is dropped past it; the queue keeps growing.
const JournalQueueAlarm = 64 << 20

// journalWriter writes every round's journal on its own goroutine, so the frame goroutine never
// opens, writes, flushes or fsyncs a file: it only appends bytes to a queue in memory, under a lock
// that the writer takes only to swap the queue out, never across I/O. A slow disk makes the queue
// grow (an alarm past JournalQueueAlarm); a failing disk is retried; no line is ever dropped.
type journalWriter struct {
	dir   string
	start time.Time
	log   zerolog.Logger

	mu      sync.Mutex
	ops     []journalOp // waiting for the writer, in order
	queued  int64       // bytes waiting
	free    [][]byte    // spent buffers for reuse
	lastErr string      // the last I/O error, "" once a write succeeds again
	current string      // the journal being written
	written int64       // bytes written since start
	wake    chan struct{}
	idle    chan struct{} // closed and replaced whenever the queue is found empty
	// moved, if set, is told (on the writer's goroutine) when a round's journal was written under
	// another name than the one named gave it, that name being taken.
	moved func(round uint32, path string)
}

type journalOp struct {
	f     *journalFile
	data  []byte
	open  bool
	close bool
}

// journalFile is one round's journal as the Show sees it: an io.WriteCloser that never blocks.
type journalFile struct {
	w     *journalWriter
	name  string // the path named gave it; never changed
	round uint32
	// Used only by the writer goroutine: the file, and its path (name, or name-N when name was
	// taken by another file).
	file *os.File
	path string
}

// newJournalWriter returns a writer of journals in dir for the show started at start; moved may
// be nil (see journalWriter.moved).
func newJournalWriter(dir string, start time.Time, log zerolog.Logger, moved func(round uint32, path string)) *journalWriter {
	return &journalWriter{dir: dir, start: start, log: log, wake: make(chan struct{}, 1), idle: make(chan struct{}), moved: moved}
}

// named returns round r's journal, not yet open: DIR/WALL-START-rNNNN.jsonl, with START the show's
// start time, so a restarted show never overwrites an earlier show's journals.
func (w *journalWriter) named(r *game.Round) *journalFile {
	p := r.Params()
	return &journalFile{w: w, round: p.Round,
		name: filepath.Join(w.dir, fmt.Sprintf("%s-%s-r%04d.jsonl", p.Wall, w.start.UTC().Format("20060102T150405Z"), p.Round))}
}

// open queues the creation of the journal's file, by the writer goroutine, under its name, or
// name-N when a file has that name already (the writer's moved is told).
func (f *journalFile) open() { f.w.push(journalOp{f: f, open: true}) }

// where is the journal's file as the writer knows it: its path once open, else its name.
func (f *journalFile) where() string {
	if f.path != "" {
		return f.path
	}
	return f.name
}

// Write queues p; it never blocks on the disk.
func (f *journalFile) Write(p []byte) (int, error) {
	f.w.push(journalOp{f: f, data: p})
	return len(p), nil
}

// Close queues the fsync and close of the journal; it never blocks on the disk.
func (f *journalFile) Close() error {
	f.w.push(journalOp{f: f, close: true})
	return nil
}

func (w *journalWriter) push(op journalOp) {
	w.mu.Lock()
	if op.data != nil { // copy: the caller reuses its buffer
		n := len(w.ops)
		if n > 0 && w.ops[n-1].f == op.f && w.ops[n-1].data != nil && !w.ops[n-1].close && len(w.ops[n-1].data)+len(op.data) <= cap(w.ops[n-1].data) {
			w.ops[n-1].data = append(w.ops[n-1].data, op.data...)
		} else {
			var b []byte
			if k := len(w.free); k > 0 {
				b, w.free = w.free[k-1][:0], w.free[:k-1]
			} else {
				b = make([]byte, 0, max(64<<10, len(op.data)))
			}
			op.data = append(b, op.data...)
			w.ops = append(w.ops, op)
		}
		w.queued += int64(len(op.data))
	} else {
		w.ops = append(w.ops, op)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Queued returns the bytes waiting for the disk.
func (w *journalWriter) Queued() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queued
}

// State returns the journal being written and the last I/O error ("" when writing is healthy).
func (w *journalWriter) State() (current, lastErr string, written int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current, w.lastErr, w.written
}

// Run writes queued journal data until ctx is cancelled, then writes everything still queued (each
// journal closed, fsynced) and returns. It blocks.
func (w *journalWriter) Run(ctx context.Context) {
	var batch []journalOp
	for {
		w.mu.Lock()
		batch, w.ops = w.ops, batch[:0]
		if len(batch) == 0 {
			close(w.idle)
			w.idle = make(chan struct{})
		}
		w.mu.Unlock()
		for i := range batch {
			buf := batch[i].data // do reslices data as it writes: the whole buffer goes back
			for wait := 10 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
				err := w.do(&batch[i])
				w.mu.Lock()
				if err != nil {
					w.lastErr = err.Error()
				} else {
					w.lastErr = ""
				}
				w.mu.Unlock()
				if err == nil {
					break
				}
				w.log.Error().Err(err).Str("journal", batch[i].f.where()).Msg("journal write failed; retrying, nothing is dropped")
				if ctx.Err() != nil && wait >= 2*time.Second {
					w.log.Error().Err(err).Str("journal", batch[i].f.where()).Msg("journal write still failing at exit: the rest of this journal is lost")
					break
				}
				time.Sleep(wait) // the writer's own goroutine: no frame waits on it
			}
			if buf != nil {
				w.mu.Lock()
				w.queued -= int64(len(batch[i].data)) // what a write given up at exit left
				w.free = append(w.free, buf[:0])
				w.mu.Unlock()
				batch[i].data = nil
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-w.wake:
		case <-ctx.Done():
			w.mu.Lock()
			empty := len(w.ops) == 0
			w.mu.Unlock()
			if empty {
				return
			}
		}
	}
}

// Drained returns a channel closed the next time the writer finds its queue empty.
func (w *journalWriter) Drained() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return w.idle
}

func (w *journalWriter) do(op *journalOp) error {
	f := op.f
	switch {
	case op.open:
		if err := os.MkdirAll(w.dir, 0o755); err != nil {
			return fmt.Errorf("journal dir: %w", err)
		}
		if f.file == nil { // (a retry after a failed directory fsync has the file already)
			base, path := strings.TrimSuffix(f.name, ".jsonl"), f.name
			for n := 2; ; n++ {
				file, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
				if errors.Is(err, os.ErrExist) {
					if st, serr := os.Lstat(path); serr == nil && st.Mode().IsRegular() && n < 100 {
						path = fmt.Sprintf("%s-%d.jsonl", base, n) // someone's journal: never write into it
						continue
					}
					file, err = os.OpenFile(path, os.O_WRONLY, 0) // not a journal (a pipe, ...): the disk's business
				}
				if err != nil {
					return fmt.Errorf("journal: %w", err)
				}
				f.file, f.path = file, path
				break
			}
			if f.path != f.name && w.moved != nil {
				w.moved(f.round, f.path)
			}
		}
		if err := durable.SyncDir(w.dir); err != nil {
			return err
		}
		w.mu.Lock()
		w.current = f.path
		w.mu.Unlock()
		w.log.Info().Uint32("round", f.round).Str("journal", f.path).Msg("journal open")
	case op.data != nil:
		if f.file == nil {
			return fmt.Errorf("journal %s: not open", f.where())
		}
		n, err := f.file.Write(op.data)
		op.data = op.data[n:]
		w.mu.Lock()
		w.written += int64(n)
		w.queued -= int64(n)
		w.mu.Unlock()
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		op.data = op.data[:0]
	case op.close:
		if f.file == nil {
			return nil
		}
		if err := f.file.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) { // EINVAL: a pipe or a device, nothing to sync
			return fmt.Errorf("journal fsync: %w", err)
		}
		if err := f.file.Close(); err != nil {
			return fmt.Errorf("journal close: %w", err)
		}
		f.file = nil
		w.log.Info().Uint32("round", f.round).Str("journal", f.path).Msg("journal closed and fsynced")
	}
	return nil
}

// CheckJournalDir makes sure dir exists and a file can be written in it: a show with no record is
// refused before it starts.
func CheckJournalDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--journal-dir %s: %w: give a writable directory, or \"\" for no journals", dir, err)
	}
	f, err := os.CreateTemp(dir, ".tapwall-check-*")
	if err != nil {
		return fmt.Errorf("--journal-dir %s: cannot write there (%v): give a writable directory, or \"\" for no journals", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

var journalName = regexp.MustCompile(`^(.+)-\d{8}T\d{6}Z-r(\d+)(-\d+)?\.jsonl$`)

// MaxJournalRound returns the highest round number among wall's journals in dir (0: none), so a
// restarted show without a backend does not replay round 1's layout.
func MaxJournalRound(dir, wall string) uint32 {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var m uint32
	for _, e := range ents {
		sub := journalName.FindStringSubmatch(e.Name())
		if sub == nil || sub[1] != wall {
			continue
		}
		if n, err := strconv.ParseUint(sub[2], 10, 32); err == nil {
			m = max(m, uint32(n))
		}
	}
	return m
}
