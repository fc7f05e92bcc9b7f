package input

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
)

// fakeDevice is a device backed by a pipe: the test writes kernel-layout bytes, the reader reads.
type fakeDevice struct {
	info DeviceInfo
	r    *os.File
}

func (d *fakeDevice) Info() *DeviceInfo          { return &d.info }
func (d *fakeDevice) Read(p []byte) (int, error) { return d.r.Read(p) }
func (d *fakeDevice) Close() error               { return d.r.Close() }
func (d *fakeDevice) Slots(int, uint16, uint16) ([]SlotState, error) {
	return nil, errors.New("no slots")
}

// fakeOpener plugs and unplugs pipe-backed devices.
type fakeOpener struct {
	mu      sync.Mutex
	plugged map[string]DeviceInfo
	writers map[string]*os.File
	opened  chan string
}

func newFakeOpener() *fakeOpener {
	return &fakeOpener{plugged: map[string]DeviceInfo{}, writers: map[string]*os.File{}, opened: make(chan string, 16)}
}

func (o *fakeOpener) plug(path string, info DeviceInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	info.Path = path
	o.plugged[path] = info
}

// unplug removes the device: its reader sees EOF, as when USB drops.
func (o *fakeOpener) unplug(path string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.plugged, path)
	if w := o.writers[path]; w != nil {
		w.Close()
		delete(o.writers, path)
	}
}

func (o *fakeOpener) List() ([]DeviceInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []DeviceInfo
	for _, p := range []string{"/dev/input/event1", "/dev/input/event2"} {
		if d, ok := o.plugged[p]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

func (o *fakeOpener) Open(path string, grab bool) (Device, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	info, ok := o.plugged[path]
	if !ok {
		return nil, OpenError(path, fs.ErrNotExist)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o.writers[path] = w
	o.opened <- path
	return &fakeDevice{info: info, r: r}, nil
}

func (o *fakeOpener) write(t testing.TB, path string, evs []RawEvent) {
	o.mu.Lock()
	w := o.writers[path]
	o.mu.Unlock()
	if w == nil {
		t.Fatalf("%s is not open", path)
	}
	buf := make([]byte, len(evs)*RawEventSize)
	for i, e := range evs {
		EncodeRaw(buf[i*RawEventSize:], e)
	}
	if _, err := w.Write(buf); err != nil {
		t.Fatal(err)
	}
}

// fakeAfter hands the test every reopen wait, so the test decides when time passes.
type fakeAfter struct {
	waits chan time.Duration
	fire  chan time.Time
}

func (f *fakeAfter) after(d time.Duration) <-chan time.Time {
	f.waits <- d
	return f.fire
}

// runReader runs a Reader over op's fake devices until the test ends, then checks that Run
// returned. Its reopen waits go through the returned fakeAfter, buffered up to waits.
func runReader(tb testing.TB, cfg *game.Config, w *Wall, op *fakeOpener, waits int) (*Reader, *fakeAfter) {
	tb.Helper()
	fa := &fakeAfter{waits: make(chan time.Duration, waits), fire: make(chan time.Time)}
	r := NewReader(cfg, w, ReaderOptions{Opener: op, Log: zerolog.Nop(), After: fa.after})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			tb.Error("Reader.Run did not stop after cancel: a goroutine leaked")
		}
	})
	return r, fa
}

// next waits for a frame event matching ok, with a deadline.
func next(t testing.TB, ch <-chan FrameEvent, what string, ok func(FrameEvent) bool) FrameEvent {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case fe := <-ch:
			if ok(fe) {
				return fe
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestHotPlugFrameReturnsWhileOthersRunOn(t *testing.T) {
	cfg := twoFrameConfig(t, 0)
	cfg.Input.ReopenMS = 250
	w, _ := NewWall(&cfg)
	op := newFakeOpener()
	op.plug("/dev/input/event1", device("L", 4000, 4000))
	op.plug("/dev/input/event2", device("R", 4000, 4000))
	r, fa := runReader(t, &cfg, w, op, 16)
	ev := r.Events()
	attached := map[int]bool{}
	for len(attached) < 2 {
		fe := next(t, ev, "both frames attached", func(fe FrameEvent) bool { return fe.Attach != nil })
		attached[fe.Frame] = true
	}
	touch := func(path string, id int32, t0 int64) {
		op.write(t, path, stroke(id, []pt{{t0, 100, 100}}, 0))
	}
	touch("/dev/input/event1", 1, 1000)
	next(t, ev, "left frame touch", func(fe FrameEvent) bool { return fe.Frame == 0 && fe.Ev.Kind == game.KindDown })

	op.unplug("/dev/input/event1") // the left frame drops off USB
	next(t, ev, "left frame detached", func(fe FrameEvent) bool { return fe.Frame == 0 && fe.Detached })
	if h := r.Health()[0]; h.Connected || !strings.Contains(h.Err, "lost") {
		t.Fatalf("health of the lost frame: %+v", h)
	}
	// The right frame never stops.
	for i := int32(0); i < 5; i++ {
		touch("/dev/input/event2", 10+i, int64(2000+i))
		next(t, ev, "right frame touch while left is gone", func(fe FrameEvent) bool { return fe.Frame == 1 && fe.Ev.ID == 10+i })
	}
	// The reader looks again after reopen_ms; the device is still missing the first time.
	if d := <-fa.waits; d > time.Second {
		t.Fatalf("reopen wait %v: a returning frame must be read again within 1 s", d)
	}
	fa.fire <- time.Now()
	if d := <-fa.waits; d != 250*time.Millisecond {
		t.Fatalf("second wait %v", d)
	}
	if h := r.Health()[0]; h.Connected || !strings.Contains(h.Err, "no device matches") {
		t.Fatalf("health while missing: %+v", h)
	}
	op.plug("/dev/input/event1", device("L", 4000, 4000)) // it is back
	fa.fire <- time.Now()
	next(t, ev, "left frame re-attached", func(fe FrameEvent) bool { return fe.Frame == 0 && fe.Attach != nil })
	touch("/dev/input/event1", 2, 3000)
	next(t, ev, "left frame touch after return", func(fe FrameEvent) bool { return fe.Frame == 0 && fe.Ev.ID == 2 })
	if h := r.Health()[0]; !h.Connected || h.Reopens != 2 || h.Events < 2 {
		t.Fatalf("health after return: %+v", h)
	}
}

func TestEvdevOpenerErrorsSayWhatToDo(t *testing.T) {
	_, err := EvdevOpener{Dir: filepath.Join(t.TempDir(), "input")}.List()
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing /dev/input: %v", err)
	}
	perm := OpenError("/dev/input/event3", &fs.PathError{Op: "open", Path: "/dev/input/event3", Err: syscall.EACCES})
	if !errors.Is(perm, ErrDevice) || !strings.Contains(perm.Error(), "input\" group") || !strings.Contains(perm.Error(), "udev") {
		t.Fatalf("permission error: %v", perm)
	}
	// A file that is not an input device: the ioctls fail and the error names the path.
	dir := t.TempDir()
	p := filepath.Join(dir, "event0")
	os.WriteFile(p, []byte("not a device"), 0o644)
	if _, err := (EvdevOpener{Dir: dir}).Open(p, false); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("opening a plain file: %v", err)
	}
	if _, err := (EvdevOpener{Dir: dir}).Open(filepath.Join(dir, "event9"), false); err == nil || !strings.Contains(err.Error(), "no such device") {
		t.Fatalf("opening a missing device: %v", err)
	}
	devs, err := EvdevOpener{Dir: dir}.List()
	if err != nil || len(devs) != 0 {
		t.Fatalf("a directory with no real devices lists %v, %v", devs, err)
	}
}

func TestRecordWritesARecordingThatDecodesTheSame(t *testing.T) {
	src := load(t, "handmade_protoB.evemu")
	op := newFakeOpener()
	op.plug("/dev/input/event1", src.Info)
	dev, err := op.Open("/dev/input/event1", false)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	done := make(chan error, 1)
	go func() {
		_, err := Record(context.Background(), dev, &out)
		done <- err
	}()
	// Shift the times to absolute kernel times: the recording starts at 0 again.
	evs := append([]RawEvent(nil), src.Events...)
	for i := range evs {
		evs[i].TimeUS += 5_000_000_000
	}
	op.write(t, "/dev/input/event1", evs)
	op.unplug("/dev/input/event1") // EOF ends the recording
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	back, err := ParseEvemu(strings.NewReader(out.String()), "rec")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := decodeAll(t, src, DecoderConfig{})
	got, _ := decodeAll(t, back, DecoderConfig{})
	for i := range want {
		want[i].TimeUS -= src.Events[0].TimeUS
	}
	if back.Info.Name != src.Info.Name || len(back.Events) != len(src.Events) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recorded %d events, decode %v, want %v", len(back.Events), got, want)
	}
}
