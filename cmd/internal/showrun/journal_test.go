package showrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
)

// journalWriters counts the goroutines running a journal writer.
func journalWriters() int {
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	return strings.Count(b.String(), "showrun.(*journalWriter).Run")
}

// TestAStandbysJournalIsClosedWhenItsContextEndsFirst: tapwall run cancels the runner's context
// and then calls Close (the window has returned). A standby (or a promoted standby) writes its
// journals with a writer started when it joined; that writer must still write the summary Close
// queues, and Close stops every journal writer.
func TestAStandbysJournalIsClosedWhenItsContextEndsFirst(t *testing.T) {
	others := journalWriters() // writers of earlier tests' shows that were never closed
	script := []game.TickInput{{Tick: 6, Input: game.Input{Kind: game.KindStart}}}
	p, url := servedPrimary(t, manualCfg, func(o *Options) { o.Script = script; o.Autoplay = true; o.JournalDir = "" })
	p.run(16_667, 1_000_000)
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = url; o.Autoplay = true })
	catchUp(t, p, s)
	p.run(16_667, 500_000)
	catchUp(t, p, s)
	before := journalWriters()
	s.stop() // as tapwall run does, before Close
	// Give a writer that ends with the context the time to do so (it never does once fixed).
	for deadline := time.Now().Add(time.Second); journalWriters() == before && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	if err := s.r.Close(3 * time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	js, _ := filepath.Glob(filepath.Join(s.dir, "journals", "*.jsonl"))
	if len(js) != 1 {
		t.Fatalf("journals %v", js)
	}
	data, _ := os.ReadFile(js[0])
	sum, err := game.Replay(bytes.NewReader(data), js[0])
	if err != nil || !bytes.Contains(data, []byte(`"summary"`)) {
		t.Fatalf("the standby's journal does not end with its summary (%v):\n%s", err, data[max(0, len(data)-400):])
	}
	if sum.Scores[0].Score != s.r.show.Round().Score(0) {
		t.Fatalf("the journal replays to %d, the show had %d", sum.Scores[0].Score, s.r.show.Round().Score(0))
	}
	for deadline := time.Now().Add(5 * time.Second); journalWriters() > others; {
		if time.Now().After(deadline) {
			t.Fatalf("%d journal writers of this show still run after Close", journalWriters()-others)
		}
		runtime.Gosched()
	}
	p.close()
}

// TestCloseSaysWhenTheJournalIsNotOnDisk: a journal the disk refuses (here its path is a
// directory) is retried while the show runs; Close does not report success while it is not
// written.
func TestCloseSaysWhenTheJournalIsNotOnDisk(t *testing.T) {
	h := newHarness(t, "[round]\ncountdown_seconds = 0\nseconds = 5\n[show]\nattract = false\n", func(o *Options) {
		o.Script = []game.TickInput{{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
	})
	if err := os.MkdirAll(filepath.Join(h.dir, "journals", "wall-1-20261129T200000Z-r0001.jsonl"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.run(16_667, 500_000)
	err := h.r.Close(500 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "journal") {
		t.Fatalf("Close with the journal not on disk: %v", err)
	}
	h.stop()
}

// TestAJournalNeverWritesIntoAnotherJournal: a journal whose name is taken by a file already (a
// standby rejoining within the same second, two shows sharing a directory) gets a name of its own,
// and the outbox notes that one as the round's journal (a damaged score is rebuilt from it), not
// the other show's.
func TestAJournalNeverWritesIntoAnotherJournal(t *testing.T) {
	dir, outbox := t.TempDir(), t.TempDir()
	taken := filepath.Join(dir, "wall-1-20261129T200000Z-r0001.jsonl")
	os.WriteFile(taken, []byte("someone's journal\n"), 0o644)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "ws://" + ln.Addr().String() + "/ws"
	ln.Close() // no backend answers: the outbox keeps everything
	h := newHarness(t, "[round]\ncountdown_seconds = 0\nseconds = 2\n[show]\nattract = false\n", func(o *Options) {
		o.JournalDir = dir
		o.Script = []game.TickInput{{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
		o.Backend = &BackendOptions{URL: dead, Wall: "wall-1", Outbox: outbox}
	})
	// The show numbers its round after the journal it finds (r0001 → round 2): take r0002 too.
	os.WriteFile(filepath.Join(dir, "wall-1-20261129T200000Z-r0002.jsonl"), []byte("another\n"), 0o644)
	h.run(16_667, 3_000_000)
	h.close()
	if b, _ := os.ReadFile(filepath.Join(dir, "wall-1-20261129T200000Z-r0002.jsonl")); string(b) != "another\n" {
		t.Fatalf("the existing journal was written into: %q", b)
	}
	own, err := os.ReadFile(filepath.Join(dir, "wall-1-20261129T200000Z-r0002-2.jsonl"))
	if err != nil || !bytes.Contains(own, []byte(`"type":"summary"`)) {
		t.Fatalf("the round's own journal: %v\n%s", err, own)
	}
	if n := MaxJournalRound(dir, "wall-1"); n != 2 {
		t.Fatalf("MaxJournalRound reads %d, want 2 (suffixed names count)", n)
	}
	var noted map[string]string
	b, err := os.ReadFile(filepath.Join(outbox, "journals.json"))
	if err := errors.Join(err, json.Unmarshal(b, &noted)); err != nil {
		t.Fatalf("the outbox's journals: %v", err)
	}
	if want := filepath.Join(dir, "wall-1-20261129T200000Z-r0002-2.jsonl"); noted["wall-1/2"] != want {
		t.Fatalf("the outbox notes round 2's journal as %q, want %q (all: %v)", noted["wall-1/2"], want, noted)
	}
}

// TestJournalBuffersKeepTheirCapacity: the writer hands every spent buffer back whole. It used to
// hand back the slice it had resliced while writing, so each use took the bytes written off the
// buffer's capacity (65536, 45536, 25536, 5536, ...): soon the frame goroutine's per-tick flush
// allocated a new buffer, and its writes no longer merged into the last one queued.
func TestJournalBuffersKeepTheirCapacity(t *testing.T) {
	dir := t.TempDir()
	w := newJournalWriter(dir, time.Now(), zerolog.Nop(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	drained := func() {
		t.Helper()
		select {
		case <-w.Drained():
		case <-time.After(10 * time.Second):
			t.Fatal("the journal writer did not drain its queue")
		}
	}
	f := &journalFile{w: w, name: filepath.Join(dir, "j.jsonl"), round: 1}
	w.push(journalOp{f: f, open: true})
	line := bytes.Repeat([]byte("x"), 20_000)
	for i := 0; i < 20; i++ {
		f.Write(line)
		drained()
	}
	f.Close()
	drained()
	cancel()
	<-done
	if len(w.free) == 0 {
		t.Fatal("no spent buffer came back")
	}
	for _, b := range w.free {
		if cap(b) != 64<<10 {
			t.Fatalf("a spent buffer came back with capacity %d, want %d", cap(b), 64<<10)
		}
	}
	// The frame goroutine's writes (the writer is stopped: nothing else allocates) take a spent
	// buffer and merge into it.
	small := line[:10_000]
	if a := testing.AllocsPerRun(5, func() { f.Write(small) }); a != 0 {
		t.Fatalf("%.1f allocations per journal write with spent buffers at hand", a)
	}
	if len(w.ops) != 1 {
		t.Fatalf("6 writes of 10 kB queued as %d ops, want 1", len(w.ops))
	}
	if b, err := os.ReadFile(f.name); err != nil || len(b) != 20*len(line) {
		t.Fatalf("the journal holds %d bytes (%v), want %d", len(b), err, 20*len(line))
	}
}
