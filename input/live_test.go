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
// With a kernel model, its slot state can be read back as the kernel's ioctls give it.
type fakeDevice struct {
	info   DeviceInfo
	r      *os.File
	kernel *mtKernel // nil: the ioctls fail, as on a device that cannot be asked
}

func (d *fakeDevice) Info() *DeviceInfo          { return &d.info }
func (d *fakeDevice) Read(p []byte) (int, error) { return d.r.Read(p) }
func (d *fakeDevice) Close() error               { return d.r.Close() }
func (d *fakeDevice) MTSlots(buf []int32) error {
	if d.kernel == nil {
		return errors.New("no slots")
	}
	return d.kernel.mtSlots(buf)
}
func (d *fakeDevice) AbsValue(code uint16) (int32, error) {
	if d.kernel == nil {
		return 0, errors.New("no axes")
	}
	return d.kernel.absValue(code)
}

// mtKernel models what the kernel's input core keeps of a protocol-B device (input_mt and
// absinfo, drivers/input/input.c and input-mt.c): every slot's ABS_MT_* values, the staged slot
// (mt->slot) and the slot last passed to readers (absinfo[ABS_MT_SLOT].value), and answers
// EVIOCGMTSLOTS and EVIOCGABS(ABS_MT_SLOT) as evdev.c does.
type mtKernel struct {
	mu     sync.Mutex
	slots  [][AbsCount]int32 // num_slots entries, indexed by code; ABS_MT_* only
	staged int32
	cur    int32
}

// newMTKernel returns a device's state with n slots, all empty (tracking id -1, input_mt_init_slots).
func newMTKernel(n int) *mtKernel {
	k := &mtKernel{slots: make([][AbsCount]int32, n)}
	for i := range k.slots {
		k.slots[i][AbsMTTrackingID] = -1
	}
	return k
}

// isMTValue is input_is_mt_value: ABS_MT_TOUCH_MAJOR (0x30) .. ABS_MT_TOOL_Y (0x3d).
func isMTValue(code uint16) bool { return code >= 0x30 && code <= 0x3d }

// handle updates the state for one event the device emits (input_handle_abs_event).
func (k *mtKernel) handle(ev RawEvent) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case ev.Type != EvAbs:
	case ev.Code == AbsMTSlot:
		if ev.Value >= 0 && int(ev.Value) < len(k.slots) {
			k.staged = ev.Value
		}
	case isMTValue(ev.Code):
		if k.slots[k.staged][ev.Code] != ev.Value {
			k.slots[k.staged][ev.Code] = ev.Value
			k.cur = k.staged // the pending slot is flushed with the first value that passes
		}
	}
}

// mtSlots is evdev_handle_mt_request: the code from buf[0], then the value of each of the
// device's slots that fits, nothing written beyond them.
func (k *mtKernel) mtSlots(buf []int32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(buf) < 1 || buf[0] < 0 || !isMTValue(uint16(buf[0])) {
		return syscall.EINVAL
	}
	code := uint16(buf[0])
	for i := 0; i < len(k.slots) && i < len(buf)-1; i++ {
		buf[1+i] = k.slots[i][code]
	}
	return nil
}

func (k *mtKernel) absValue(code uint16) (int32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if code != AbsMTSlot {
		return 0, syscall.EINVAL
	}
	return k.cur, nil
}

// fakeOpener plugs and unplugs pipe-backed devices.
type fakeOpener struct {
	mu      sync.Mutex
	plugged map[string]DeviceInfo
	kernels map[string]*mtKernel
	writers map[string]*os.File
	opened  chan string
}

func newFakeOpener() *fakeOpener {
	return &fakeOpener{plugged: map[string]DeviceInfo{}, kernels: map[string]*mtKernel{}, writers: map[string]*os.File{}, opened: make(chan string, 16)}
}

// plugKernel plugs a protocol-B device with n slots whose state the kernel model keeps.
func (o *fakeOpener) plugKernel(path string, info DeviceInfo, n int) *mtKernel {
	info.Abs[AbsMTSlot] = AbsInfo{Present: true, Max: int32(n - 1)}
	o.plug(path, info)
	k := newMTKernel(n)
	o.mu.Lock()
	o.kernels[path] = k
	o.mu.Unlock()
	return k
}

// emit has the device at path emit evs: the kernel model takes every one; a reader gets them when
// delivered, or loses them in a buffer overrun (then it reads SYN_DROPPED and the frame's end).
func (o *fakeOpener) emit(t testing.TB, path string, evs []RawEvent, delivered bool) {
	t.Helper()
	o.mu.Lock()
	k := o.kernels[path]
	o.mu.Unlock()
	for _, ev := range evs {
		k.handle(ev)
	}
	if delivered {
		o.write(t, path, evs)
		return
	}
	end := evs[len(evs)-1].TimeUS
	o.write(t, path, []RawEvent{{end, EvSyn, SynDropped, 0}, {end, EvSyn, SynReport, 0}})
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
	k := o.kernels[path]
	if k != nil { // what describe reads at open: the axes' current values
		info.Abs[AbsMTSlot].Value, _ = k.absValue(AbsMTSlot)
	}
	return &fakeDevice{info: info, r: r, kernel: k}, nil
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

// TestHealthCountsAContactEventBeforeItIsHandedOn: whoever takes a contact event from Events
// finds it counted in Health (Events, LastUS), as it finds an attach or a loss already noted there.
func TestHealthCountsAContactEventBeforeItIsHandedOn(t *testing.T) {
	cfg := twoFrameConfig(t, 0)
	w, _ := NewWall(&cfg)
	op := newFakeOpener()
	op.plug("/dev/input/event1", device("L", 4000, 4000))
	r, _ := runReader(t, &cfg, w, op, 16)
	ev := r.Events()
	next(t, ev, "the left frame attached", func(fe FrameEvent) bool { return fe.Frame == 0 && fe.Attach != nil })
	var got int64
	for i := int32(1); i <= 200; i++ {
		op.write(t, "/dev/input/event1", stroke(i, []pt{{int64(1000 * i), 100, 100}}, int64(1000*i+500)))
		for _, kind := range []game.Kind{game.KindDown, game.KindUp} {
			fe := next(t, ev, fmt.Sprintf("%v of touch %d", kind, i), func(fe FrameEvent) bool { return fe.Frame == 0 && fe.Ev.ID == i })
			if fe.Ev.Kind != kind {
				t.Fatalf("touch %d: got %v, want %v", i, fe.Ev.Kind, kind)
			}
			got++
			if h := r.Health()[0]; h.Events < got || h.LastUS < fe.Ev.TimeUS {
				t.Fatalf("after taking event %d (at %d µs) from Events, Health says %d events, the last at %d µs", got, fe.Ev.TimeUS, h.Events, h.LastUS)
			}
		}
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

// abs, slotEv and synAt build raw events at time t.
func absAt(t int64, code uint16, v int32) RawEvent { return RawEvent{t, EvAbs, code, v} }
func synAt(t int64) RawEvent                       { return RawEvent{t, EvSyn, SynReport, 0} }

// collect reads frame 0's contact events from ch until one matches last, with a deadline, and
// returns them as "kind:id@x,y/t" strings.
func collect(t *testing.T, ch <-chan FrameEvent, last func(ContactEvent) bool) []string {
	t.Helper()
	var got []string
	deadline := time.After(5 * time.Second)
	for {
		select {
		case fe := <-ch:
			if fe.Attach != nil || fe.Detached {
				continue
			}
			e := fe.Ev
			got = append(got, fmt.Sprintf("%v:%d@%d,%d/%d", e.Kind, e.ID, e.X, e.Y, e.TimeUS))
			if last(e) {
				return got
			}
		case <-deadline:
			t.Fatalf("timed out; events so far: %v", got)
		}
	}
}

// startKernelFrame runs a Reader over one protocol-B device with n slots modelled by the kernel,
// after the device has emitted before (unseen: nobody had it open), and waits for the attach.
func startKernelFrame(t *testing.T, n int, before []RawEvent) (*fakeOpener, *mtKernel, <-chan FrameEvent) {
	t.Helper()
	cfg := game.DefaultConfig()
	w, err := NewWall(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	op := newFakeOpener()
	k := op.plugKernel("/dev/input/event1", device("kernel", 4000, 4000), n)
	for _, ev := range before {
		k.handle(ev)
	}
	r, _ := runReader(t, &cfg, w, op, 16)
	next(t, r.Events(), "the frame attached", func(fe FrameEvent) bool { return fe.Attach != nil })
	return op, k, r.Events()
}

// TestSynDroppedResyncReadsOnlyTheDevicesSlots: after a SYN_DROPPED, a live protocol-B device with
// 2 slots is asked for exactly its slots; what the kernel does not fill is empty, never a phantom
// contact with tracking id 0 at (0,0).
func TestSynDroppedResyncReadsOnlyTheDevicesSlots(t *testing.T) {
	const dev = "/dev/input/event1"
	op, _, ev := startKernelFrame(t, 2, nil)
	op.emit(t, dev, []RawEvent{
		absAt(1000, AbsMTSlot, 0), absAt(1000, AbsMTTrackingID, 10), absAt(1000, AbsMTPositionX, 100), absAt(1000, AbsMTPositionY, 100),
		absAt(1000, AbsMTSlot, 1), absAt(1000, AbsMTTrackingID, 11), absAt(1000, AbsMTPositionX, 200), absAt(1000, AbsMTPositionY, 200),
		synAt(1000)}, true)
	// Lost in an overrun: slot 0 moves, slot 1 lifts.
	op.emit(t, dev, []RawEvent{absAt(2000, AbsMTSlot, 0), absAt(2000, AbsMTPositionX, 150),
		absAt(2000, AbsMTSlot, 1), absAt(2000, AbsMTTrackingID, -1), synAt(2000)}, false)
	got := collect(t, ev, func(e ContactEvent) bool { return e.Kind == game.KindUp })
	// Then slot 0 moves again and lifts: it was resynchronised, not cancelled.
	op.emit(t, dev, []RawEvent{absAt(3000, AbsMTSlot, 0), absAt(3000, AbsMTPositionX, 160), synAt(3000),
		absAt(4000, AbsMTTrackingID, -1), synAt(4000)}, true)
	got = append(got, collect(t, ev, func(e ContactEvent) bool { return e.Kind == game.KindUp })...)
	want := []string{"down:10@100,100/1000", "down:11@200,200/1000",
		"move:10@150,100/2000", "up:11@200,200/2000", // the resync: what the device really holds
		"move:10@160,100/3000", "up:10@160,100/4000"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

// TestMovesGoToTheDevicesCurrentSlot: the kernel sends ABS_MT_SLOT only when the slot changes, so
// the first events after opening belong to the slot the device was at (EVIOCGABS at open), and
// the events after a SYN_DROPPED to the slot it is at after the lost ones (read back on resync).
func TestMovesGoToTheDevicesCurrentSlot(t *testing.T) {
	const dev = "/dev/input/event1"
	t.Run("at attach", func(t *testing.T) {
		// Before tapwall opened it, two touches came and went; the device's slot is 1.
		op, k, ev := startKernelFrame(t, 2, []RawEvent{
			absAt(10, AbsMTSlot, 0), absAt(10, AbsMTTrackingID, 1), absAt(10, AbsMTPositionX, 5), absAt(10, AbsMTTrackingID, -1),
			absAt(20, AbsMTSlot, 1), absAt(20, AbsMTTrackingID, 2), absAt(20, AbsMTPositionX, 6), absAt(20, AbsMTTrackingID, -1)})
		if cur, _ := k.absValue(AbsMTSlot); cur != 1 {
			t.Fatalf("the model's current slot is %d, want 1", cur)
		}
		op.emit(t, dev, []RawEvent{
			absAt(1000, AbsMTTrackingID, 5), absAt(1000, AbsMTPositionX, 300), absAt(1000, AbsMTPositionY, 300), synAt(1000), // slot 1, unsaid
			absAt(2000, AbsMTSlot, 0), absAt(2000, AbsMTTrackingID, 6), absAt(2000, AbsMTPositionX, 100), absAt(2000, AbsMTPositionY, 100), synAt(2000),
			absAt(3000, AbsMTSlot, 1), absAt(3000, AbsMTPositionX, 310), synAt(3000),
			absAt(4000, AbsMTSlot, 0), absAt(4000, AbsMTTrackingID, -1), synAt(4000)}, true)
		got := collect(t, ev, func(e ContactEvent) bool { return e.Kind == game.KindUp })
		want := []string{"down:5@300,300/1000", "down:6@100,100/2000", "move:5@310,300/3000", "up:6@100,100/4000"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("got  %v\nwant %v", got, want)
		}
	})
	t.Run("after a drop", func(t *testing.T) {
		op, _, ev := startKernelFrame(t, 2, nil)
		op.emit(t, dev, []RawEvent{
			absAt(1000, AbsMTSlot, 0), absAt(1000, AbsMTTrackingID, 10), absAt(1000, AbsMTPositionX, 100), absAt(1000, AbsMTPositionY, 100),
			absAt(1000, AbsMTSlot, 1), absAt(1000, AbsMTTrackingID, 11), absAt(1000, AbsMTPositionX, 200), absAt(1000, AbsMTPositionY, 200),
			synAt(1000),
			absAt(1500, AbsMTSlot, 0), absAt(1500, AbsMTPositionX, 110), synAt(1500)}, true) // the reader's slot is 0
		// Lost: the device switches to slot 1 and moves it.
		op.emit(t, dev, []RawEvent{absAt(2000, AbsMTSlot, 1), absAt(2000, AbsMTPositionX, 250), synAt(2000)}, false)
		got := collect(t, ev, func(e ContactEvent) bool { return e.Kind == game.KindMove && e.TimeUS == 2000 })
		// Slot 1 moves on without ABS_MT_SLOT (it is the device's slot), then slot 0 lifts.
		op.emit(t, dev, []RawEvent{absAt(3000, AbsMTPositionX, 260), synAt(3000),
			absAt(4000, AbsMTSlot, 0), absAt(4000, AbsMTTrackingID, -1), synAt(4000)}, true)
		got = append(got, collect(t, ev, func(e ContactEvent) bool { return e.Kind == game.KindUp })...)
		want := []string{"down:10@100,100/1000", "down:11@200,200/1000", "move:10@110,100/1500",
			"move:11@250,200/2000", "move:11@260,200/3000", "up:10@110,100/4000"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("got  %v\nwant %v", got, want)
		}
	})
}

// TestSynDroppedOnADeviceThatCannotBeAskedCancels: when the slots cannot be read back, the
// contacts that were down are cancelled (the recording fallback) and the frame reads on.
func TestSynDroppedOnADeviceThatCannotBeAskedCancels(t *testing.T) {
	cfg := game.DefaultConfig()
	w, _ := NewWall(&cfg)
	op := newFakeOpener()
	op.plug("/dev/input/event1", device("x", 4000, 4000)) // no kernel model: the ioctls fail
	r, _ := runReader(t, &cfg, w, op, 16)
	next(t, r.Events(), "the frame attached", func(fe FrameEvent) bool { return fe.Attach != nil })
	op.write(t, "/dev/input/event1", append(stroke(7, []pt{{1000, 100, 100}}, 0),
		RawEvent{2000, EvSyn, SynDropped, 0}, synAt(2000)))
	got := collect(t, r.Events(), func(e ContactEvent) bool { return e.Kind == game.KindCancel })
	if want := "down:7@100,100/1000 cancel:7@100,100/2000"; strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
}
