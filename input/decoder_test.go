package input

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"tapwall/game"
)

func load(t testing.TB, name string) *Recording {
	t.Helper()
	r, err := ReadEvemuFile(filepath.Join("testdata/recordings", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// decodeAll runs a recording through a decoder and returns the contact events.
func decodeAll(t testing.TB, r *Recording, cfg DecoderConfig) ([]ContactEvent, *Decoder) {
	t.Helper()
	d, err := NewDecoder(&r.Info, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []ContactEvent
	for _, ev := range r.Events {
		out = d.Feed(ev, out)
	}
	return out, d
}

// tally checks that a contact event stream is consistent (a down for an id not down, everything
// else for an id that is down) and counts it.
type tally struct{ downs, ups, cancels, moves, maxDown int }

func check(t testing.TB, evs []ContactEvent) tally {
	t.Helper()
	var c tally
	down := map[int32]bool{}
	for i, e := range evs {
		switch e.Kind {
		case game.KindDown:
			if down[e.ID] {
				t.Fatalf("event %d: down for contact %d which is already down", i, e.ID)
			}
			down[e.ID] = true
			c.downs++
			c.maxDown = max(c.maxDown, len(down))
		default:
			if !down[e.ID] {
				t.Fatalf("event %d: %v for contact %d which is not down", i, e.Kind, e.ID)
			}
			switch e.Kind {
			case game.KindMove:
				c.moves++
			case game.KindUp:
				c.ups++
				delete(down, e.ID)
			case game.KindCancel:
				c.cancels++
				delete(down, e.ID)
			}
		}
	}
	return c
}

// TestRealRecordings decodes the shared real recordings. The expected counts come from an
// independent decoder (../shared/recordings/README.md): touch sequences and most contacts at once.
func TestRealRecordings(t *testing.T) {
	for _, tc := range []struct {
		file      string
		proto     Protocol
		seq, most int // seq -1: not comparable (protocol A's README count is BTN_TOUCH sequences)
		cfg       DecoderConfig
	}{
		{"02_ntrig-dell-xt2_protoA.evemu", ProtoA, -1, 4, DecoderConfig{}},
		{"03_egalax-wetab_protoB.evemu", ProtoB, 11, 1, DecoderConfig{}},
		{"07_dell-canvas-cooltouch_protoB.evemu", ProtoB, 12, 5, DecoderConfig{}},
		{"08_atmel-maxtouch-4finger_protoB.evemu", ProtoB, 4, 4, DecoderConfig{}},
		{"10_quanta-optical-ir_protoB.evemu", ProtoB, 9, 1, DecoderConfig{}},
		{"11_egalax-usb-singletouch.evemu", ProtoSingle, 2, 1, DecoderConfig{XAxis: 0x02, YAxis: 0x03}},
		{"13_wacom-isdv4-e6-finger-2fg_protoB.evemu", ProtoB, 2, 2, DecoderConfig{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := load(t, tc.file)
			evs, d := decodeAll(t, r, tc.cfg)
			if d.Protocol() != tc.proto {
				t.Fatalf("detected protocol %v, want %v", d.Protocol(), tc.proto)
			}
			c := check(t, evs)
			if c.downs != c.ups || c.cancels != 0 {
				t.Errorf("%d downs, %d ups, %d cancels: every touch of a clean recording lifts", c.downs, c.ups, c.cancels)
			}
			if tc.seq >= 0 && c.downs != tc.seq {
				t.Errorf("%d touch sequences, want %d", c.downs, tc.seq)
			}
			if c.maxDown != tc.most {
				t.Errorf("at most %d contacts at once, want %d", c.maxDown, tc.most)
			}
			if st := d.Stats(); st.NoPosition != 0 || st.Dropped != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestSingleTouchWithoutPositionIsReportedNotPlacedAtZero(t *testing.T) {
	r := load(t, "11_egalax-usb-singletouch.evemu")
	evs, d := decodeAll(t, r, DecoderConfig{})
	if len(evs) != 0 || d.Stats().NoPosition != 2 {
		t.Fatalf("got %d events and %d position-less touches; want none and 2", len(evs), d.Stats().NoPosition)
	}
	cfg := game.DefaultConfig()
	w, _ := NewWall(&cfg)
	_, _, err := PlayAll(w, []*Recording{r})
	if err == nil || !strings.Contains(err.Error(), "ABS_Z") || !strings.Contains(err.Error(), "x_axis") {
		t.Fatalf("want an error naming the axes it sends and the fix, got %v", err)
	}
}

func TestHandWrittenProtocols(t *testing.T) {
	type ev = ContactEvent
	D, M, U, C := game.KindDown, game.KindMove, game.KindUp, game.KindCancel
	for _, tc := range []struct {
		file string
		want []ev
	}{
		{"handmade_protoB.evemu", []ev{
			{D, 45, 1000, 2000, 100}, {D, 46, 3000, 4000, 100},
			{M, 45, 1100, 2000, 10100},
			{U, 45, 1100, 2000, 20100},
			{U, 46, 3000, 4000, 30100},
			{D, 47, 1100, 2000, 40100}, // a new contact inherits its slot's last position
			{U, 47, 1100, 2000, 50100},
		}},
		{"handmade_protoA.evemu", []ev{
			{D, 1, 1000, 2000, 100}, {D, 2, 5000, 2000, 100},
			// the frame lists them in the other order (events follow it): nearest-neighbour tracking keeps the ids
			{M, 2, 5100, 2100, 10100}, {M, 1, 1100, 2100, 10100},
			{U, 1, 1100, 2100, 20100}, {M, 2, 5200, 2200, 20100},
			{U, 2, 5200, 2200, 30100},
		}},
		{"handmade_single.evemu", []ev{
			{D, 1, 1000, 2000, 10_000_000}, {M, 1, 1500, 2000, 10_010_000}, {U, 1, 1500, 2000, 10_020_000},
			{D, 2, 9000, 9000, 10_030_000}, {U, 2, 9000, 9000, 10_040_000},
		}},
		{"handmade_syndropped_B.evemu", []ev{
			{D, 45, 1000, 2000, 100}, {D, 46, 3000, 4000, 100},
			// SYN_DROPPED: what happened is unknown, so both contacts are cancelled, and slot 0's
			// later moves are ignored rather than turned into a phantom touch.
			{C, 45, 1000, 2000, 10100}, {C, 46, 3000, 4000, 10100},
			{D, 48, 7000, 7000, 30100}, {U, 48, 7000, 7000, 40100},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, _ := decodeAll(t, load(t, tc.file), DecoderConfig{})
			check(t, got)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}

func TestSynDroppedInARealRecording(t *testing.T) {
	clean, _ := decodeAll(t, load(t, "13_wacom-isdv4-e6-finger-2fg_protoB.evemu"), DecoderConfig{})
	evs, d := decodeAll(t, load(t, "13_wacom_syndropped_made.evemu"), DecoderConfig{})
	c := check(t, evs)
	if d.Stats().Dropped != 1 {
		t.Fatalf("SYN_DROPPED counted %d times", d.Stats().Dropped)
	}
	// The two fingers that were down are cancelled at the drop; the rest of their strokes are
	// ignored until their slots start new contacts, so nothing ends twice and nothing is invented.
	if c.cancels != 2 || c.downs != c.ups+c.cancels {
		t.Fatalf("%+v: want 2 cancels and every down ended once", c)
	}
	if cc := check(t, clean); c.moves >= cc.moves {
		t.Fatalf("%d moves after a drop, %d without: the lost stroke was not skipped", c.moves, cc.moves)
	}
}

func TestResyncFromLiveSlots(t *testing.T) {
	r := load(t, "handmade_protoB.evemu")
	d, _ := NewDecoder(&r.Info, DecoderConfig{})
	out := d.Feed(r.Events[0], nil)
	for _, ev := range r.Events[1:9] { // both contacts down
		out = d.Feed(ev, out)
	}
	out = d.Feed(RawEvent{TimeUS: 5000, Type: EvSyn, Code: SynDropped}, out[:0])
	if !d.Dropping() {
		t.Fatal("not dropping after SYN_DROPPED")
	}
	// The device says: slot 0 still holds 45 (moved), slot 1 is empty, slot 2 holds a new 50.
	out = d.Resync([]SlotState{{45, 1500, 2000}, {-1, 0, 0}, {50, 10, 20}}, 0, 6000, out)
	want := []ContactEvent{{game.KindMove, 45, 1500, 2000, 6000}, {game.KindUp, 46, 3000, 4000, 6000}, {game.KindDown, 50, 10, 20, 6000}}
	if fmt.Sprint(out) != fmt.Sprint(want) || d.Dropping() {
		t.Fatalf("resync gave %v, want %v", out, want)
	}
}

// rawBytes lays events out exactly as the kernel's 64-bit struct input_event, independently of
// EncodeRaw: struct timeval {long tv_sec; long tv_usec}; __u16 type, code; __s32 value.
func rawBytes(t testing.TB, evs []RawEvent) []byte {
	t.Helper()
	type inputEvent struct {
		Sec, Usec  int64
		Type, Code uint16
		Value      int32
	}
	var buf bytes.Buffer
	for _, e := range evs {
		if err := binary.Write(&buf, binary.LittleEndian, inputEvent{e.TimeUS / 1e6, e.TimeUS % 1e6, e.Type, e.Code, e.Value}); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != len(evs)*RawEventSize {
		t.Fatalf("struct input_event is %d bytes, want %d", buf.Len()/len(evs), RawEventSize)
	}
	return buf.Bytes()
}

func TestRawByteStreamDecodesLikeTheRecording(t *testing.T) {
	for _, f := range []string{"07_dell-canvas-cooltouch_protoB.evemu", "02_ntrig-dell-xt2_protoA.evemu", "handmade_syndropped_B.evemu"} {
		r := load(t, f)
		want, _ := decodeAll(t, r, DecoderConfig{})
		b := rawBytes(t, r.Events)
		// Cut the stream at every offset of the first few events: a reader that gets partial
		// events must carry the rest over and decode the same thing.
		for cut := 0; cut < 3*RawEventSize; cut++ {
			d, _ := NewDecoder(&r.Info, DecoderConfig{})
			var got []ContactEvent
			var pending []byte
			for _, chunk := range [][]byte{b[:cut], b[cut:]} {
				pending = append(pending, chunk...)
				k := 0
				for ; k+RawEventSize <= len(pending); k += RawEventSize {
					got = d.Feed(DecodeRaw(pending[k:]), got)
				}
				pending = pending[k:]
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s cut at %d: byte stream decodes differently", f, cut)
			}
		}
		var enc [RawEventSize]byte
		EncodeRaw(enc[:], r.Events[5])
		if !bytes.Equal(enc[:], b[5*RawEventSize:6*RawEventSize]) {
			t.Fatalf("EncodeRaw differs from the kernel layout")
		}
	}
}

func TestParseEvemuErrorsNameFileAndLine(t *testing.T) {
	ok := "N: x\nA: 00 0 10 0 0 0\nA: 01 0 10 0 0\n"
	for _, tc := range []struct{ body, want string }{
		{ok + "E: 0.000001 0003 0000 5\nE: 0.000001 0003 zz 5\n", "f.evemu:5: E: code"},
		{ok + "E: 1.5 0003 0000 5\n", "f.evemu:4: E: time"},
		{ok + "E: 0.000002 0003 0000 5\nE: 0.000001 0000 0000 0\n", "f.evemu:5: E: time 0.000001 goes back"},
		{"N: x\nA: 00 0\n", "f.evemu:2: A: wants"},
		{"N: x\nA: 7f 0 1 0 0\n", "f.evemu:2: A: axis code"},
		{"N: x\nQ: what\n", "f.evemu:2: unknown line type"},
		{"N: x\nI: 0003 zzzz 0001 0001\n", "f.evemu:2: I:"},
		{"hello\n", "f.evemu:1:"},
		{"A: 00 0 10 0 0 0\n", "no device name"},
		{"N: x\nE: 0.000001 0003 0000 99999999999\n", "f.evemu:2: E: value"},
	} {
		_, err := ParseEvemu(strings.NewReader(tc.body), "f.evemu")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.body, err, tc.want)
		}
	}
}

func TestEvemuWriteReadRoundTrip(t *testing.T) {
	r := load(t, "07_dell-canvas-cooltouch_protoB.evemu")
	var buf bytes.Buffer
	if err := WriteEvemuHeader(&buf, &r.Info); err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, ev := range r.Events {
		b = AppendEvemuEvent(b, ev)
	}
	buf.Write(b)
	back, err := ParseEvemu(&buf, "rt")
	if err != nil {
		t.Fatal(err)
	}
	if back.Info.Name != r.Info.Name || back.Info.Abs != r.Info.Abs || back.Info.Vendor != r.Info.Vendor ||
		fmt.Sprint(back.Events) != fmt.Sprint(r.Events) || !bytes.Equal(back.Info.Bits[EvKey], r.Info.Bits[EvKey]) {
		t.Fatal("recording changed through write and read")
	}
}

// TestProtocolBTrackingIDChangesWithinAFrame covers slots whose tracking id changes more than once
// between two SYN_REPORTs, or changes just before a SYN_DROPPED: the contact that was reported
// down is the one that goes up or is cancelled, and no id is ever down twice.
func TestProtocolBTrackingIDChangesWithinAFrame(t *testing.T) {
	abs := func(code uint16, v int32) RawEvent { return RawEvent{Type: EvAbs, Code: code, Value: v} }
	syn := RawEvent{Type: EvSyn, Code: SynReport}
	slot := func(n int32) RawEvent { return abs(AbsMTSlot, n) }
	tid := func(n int32) RawEvent { return abs(AbsMTTrackingID, n) }
	pos := []RawEvent{abs(AbsMTPositionX, 10), abs(AbsMTPositionY, 20)}
	down := func(s, id int32) []RawEvent { return append([]RawEvent{slot(s), tid(id)}, append(pos, syn)...) }
	cat := func(parts ...[]RawEvent) (evs []RawEvent) {
		for _, p := range parts {
			evs = append(evs, p...)
		}
		return evs
	}
	for _, tc := range []struct {
		name string
		evs  []RawEvent
		want string // kind:id, in order
	}{
		{"two new ids in one frame", cat(down(0, 7), []RawEvent{tid(8), tid(9), syn}), "down:7 up:7 down:9"},
		{"new id then lift in one frame", cat(down(0, 7), []RawEvent{tid(8), tid(-1), syn}), "down:7 up:7"},
		{"lift then same id again", cat(down(0, 7), []RawEvent{tid(-1), tid(7), syn}), "down:7 up:7 down:7"},
		{"new id then SYN_DROPPED", cat(down(0, 7), []RawEvent{tid(8), {Type: EvSyn, Code: SynDropped}, syn}), "down:7 cancel:7"},
		{"id moves to a lower slot while its slot takes another", cat(down(1, 7), []RawEvent{slot(0), tid(7)}, pos, []RawEvent{slot(1), tid(8), syn}), "down:7 cancel:7 down:7 down:8"},
		{"id reused by another slot", cat(down(1, 7), []RawEvent{slot(0), tid(7)}, pos, []RawEvent{syn, slot(1), tid(9), syn}), "down:7 cancel:7 down:7 down:9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := device("b", 100, 100)
			d, err := NewDecoder(&info, DecoderConfig{Protocol: ProtoB})
			if err != nil {
				t.Fatal(err)
			}
			var out []ContactEvent
			for _, ev := range tc.evs {
				out = d.Feed(ev, out)
			}
			check(t, out)
			var got []string
			for _, e := range out {
				got = append(got, fmt.Sprintf("%v:%d", e.Kind, e.ID))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("got %s, want %s", g, tc.want)
			}
		})
	}
}

// TestProtocolATrackingOverTheFullInt32Range: protocol A matches contacts between frames within a
// tenth of the X range; for a device declaring the whole int32 range that range and the distances
// must be computed without overflow: a small move stays one contact, and a lift at one edge with a
// touch at the other in the next frame is an up and a down, not a move across the screen.
func TestProtocolATrackingOverTheFullInt32Range(t *testing.T) {
	var info DeviceInfo
	info.Name = "huge A"
	for _, c := range []uint16{AbsMTPositionX, AbsMTPositionY} {
		info.Abs[c] = AbsInfo{Present: true, Min: math.MinInt32, Max: math.MaxInt32}
	}
	d, err := NewDecoder(&info, DecoderConfig{})
	if err != nil || d.Protocol() != ProtoA {
		t.Fatalf("decoder %v, protocol %v", err, d.Protocol())
	}
	frame := func(tm int64, x, y int32) []RawEvent {
		return []RawEvent{{tm, EvAbs, AbsMTPositionX, x}, {tm, EvAbs, AbsMTPositionY, y}, {tm, EvSyn, SynMTReport, 0}, {tm, EvSyn, SynReport, 0}}
	}
	var evs []RawEvent
	evs = append(evs, frame(100, math.MaxInt32-1000, 0)...)
	evs = append(evs, frame(200, math.MaxInt32-500, 1000)...) // 500 units on: the same finger
	evs = append(evs, frame(300, math.MinInt32+1000, 0)...)   // the other edge: another finger
	evs = append(evs, RawEvent{400, EvSyn, SynReport, 0})     // nothing down
	var out []ContactEvent
	for _, ev := range evs {
		out = d.Feed(ev, out)
	}
	check(t, out)
	var got []string
	for _, e := range out {
		got = append(got, fmt.Sprintf("%v:%d@%d", e.Kind, e.ID, e.X))
	}
	want := fmt.Sprintf("down:1@%d move:1@%d up:1@%d down:2@%d up:2@%d", math.MaxInt32-1000, math.MaxInt32-500,
		math.MaxInt32-500, math.MinInt32+1000, math.MinInt32+1000)
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestResyncKeepsIDsUnique: the state read back may list a live contact's id in another slot
// (it moved slots while events were lost) or in two slots: every contact event stays
// consistent (ups before downs; never two downs of one id).
func TestResyncKeepsIDsUnique(t *testing.T) {
	info := device("b", 100, 100)
	abs := func(code uint16, v int32) RawEvent { return RawEvent{100, EvAbs, code, v} }
	for _, tc := range []struct {
		name  string
		state []SlotState
		want  string
	}{
		{"moved to a lower slot", []SlotState{{7, 11, 21}}, "down:7 up:7 down:7"},
		{"listed twice", []SlotState{{7, 11, 21}, {7, 10, 20}}, "down:7"},
		{"listed twice, moved", []SlotState{{7, 12, 22}, {-1, 0, 0}, {7, 13, 23}}, "down:7 up:7 down:7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := NewDecoder(&info, DecoderConfig{Protocol: ProtoB})
			var out []ContactEvent
			for _, ev := range []RawEvent{abs(AbsMTSlot, 1), abs(AbsMTTrackingID, 7), abs(AbsMTPositionX, 10), abs(AbsMTPositionY, 20),
				{100, EvSyn, SynReport, 0}, {200, EvSyn, SynDropped, 0}} {
				out = d.Feed(ev, out)
			}
			out = d.Resync(tc.state, 0, 300, out)
			check(t, out)
			var got []string
			for _, e := range out {
				got = append(got, fmt.Sprintf("%v:%d", e.Kind, e.ID))
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
}
