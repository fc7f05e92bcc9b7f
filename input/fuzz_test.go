package input

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"tapwall/game"
)

// FuzzParseEvemu feeds arbitrary text to the evemu parser, then decodes what parses through every
// protocol and the wall. Nothing may panic; a rejected file must be an ErrRecording naming a line;
// decoded contacts must be consistent (a down for a new id, everything else for a live one), on
// the device and on the wall, and detaching the frame then flushing the wall must end every contact.
func FuzzParseEvemu(f *testing.F) {
	files, _ := filepath.Glob("testdata/recordings/*.evemu")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		if len(b) < 16<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("N: x\nA: 35 0 100 0 0\nA: 36 0 100 0 0\nE: 0.000001 0003 0035 5\nE: 0.000001 0000 0002 0\nE: 0.000001 0000 0000 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseEvemu(bytes.NewReader(data), "fuzz.evemu")
		if err != nil {
			if !errors.Is(err, ErrRecording) {
				t.Fatalf("error %v does not wrap ErrRecording", err)
			}
			return
		}
		decodeEverywhere(t, &r.Info, r.Events)
	})
}

// FuzzDecodeRaw feeds arbitrary bytes, read as kernel struct input_event records, through every
// protocol's decoder and the wall.
func FuzzDecodeRaw(f *testing.F) {
	for _, name := range []string{"handmade_protoB.evemu", "handmade_protoA.evemu", "handmade_single.evemu", "handmade_syndropped_B.evemu"} {
		r := load(f, name)
		f.Add(rawBytes(f, r.Events))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs := make([]RawEvent, 0, len(data)/RawEventSize)
		for k := 0; k+RawEventSize <= len(data); k += RawEventSize {
			evs = append(evs, DecodeRaw(data[k:]))
		}
		info := device("fuzz", 4000, 4000)
		decodeEverywhere(t, &info, evs)
	})
}

// decodeEverywhere decodes evs through every protocol and the wall; protocol B twice: as a
// recording (a SYN_DROPPED cancels) and as a live device whose slots, kept by a model of the
// kernel fed the same events, are read back after a SYN_DROPPED.
func decodeEverywhere(t *testing.T, info *DeviceInfo, evs []RawEvent) {
	cfg := game.DefaultConfig()
	for _, run := range []struct {
		p    Protocol
		live bool
	}{{ProtoA, false}, {ProtoB, false}, {ProtoSingle, false}, {ProtoB, true}} {
		p := run.p
		var live *fakeDevice
		var sr *slotReadback
		if run.live {
			live = &fakeDevice{info: *info, kernel: newMTKernel(max(SlotCount(info), 1))}
			sr = &slotReadback{n: SlotCount(info)}
		}
		d, err := NewDecoder(info, DecoderConfig{Protocol: p})
		if err != nil {
			if !errors.Is(err, ErrDevice) {
				t.Fatalf("NewDecoder: %v does not wrap ErrDevice", err)
			}
			continue
		}
		w, _ := NewWall(&cfg)
		x, y := d.Axes()
		if _, err := w.Attach(0, info, x, y, 0, nil); err != nil && !errors.Is(err, ErrDevice) {
			t.Fatalf("Attach: %v", err)
		}
		var out []ContactEvent
		var wall []WallEvent
		for _, ev := range evs {
			n := len(out)
			if live != nil {
				live.kernel.handle(ev)
				if d.Dropping() && ev.Type == EvSyn && ev.Code == SynReport {
					x, y := d.Axes()
					if slots, cur, err := sr.read(live, x, y); err == nil {
						out = d.Resync(slots, cur, ev.TimeUS, out)
						for _, ce := range out[n:] {
							wall = w.Process(0, ce, wall)
						}
						continue
					}
				}
			}
			out = d.Feed(ev, out)
			for _, ce := range out[n:] {
				wall = w.Process(0, ce, wall)
			}
		}
		check(t, out)
		wall = w.Flush(w.Detach(0, 0, wall))
		asContacts := make([]ContactEvent, len(wall))
		for k, we := range wall {
			if we.XMM < 0 || we.YMM < 0 || we.XMM >= cfg.Wall.WidthMM || we.YMM >= cfg.Wall.HeightMM {
				t.Fatalf("wall event off the wall: %+v", we)
			}
			asContacts[k] = ContactEvent{Kind: we.Kind, ID: we.Contact}
		}
		if c := check(t, asContacts); c.downs != c.ups+c.cancels {
			t.Fatalf("wall: %d downs but %d ups and %d cancels after Detach and Flush", c.downs, c.ups, c.cancels)
		}
	}
}
