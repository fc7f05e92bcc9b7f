package input

import (
	"fmt"

	"tapwall/game"
)

// Protocol is how a device reports touches.
type Protocol uint8

// Touch protocols (the kernel's Documentation/input/multi-touch-protocol.rst).
const (
	ProtoAuto   Protocol = iota // detect from the device's axes
	ProtoB                      // slots: ABS_MT_SLOT + ABS_MT_TRACKING_ID
	ProtoA                      // anonymous contacts separated by SYN_MT_REPORT
	ProtoSingle                 // one contact: BTN_TOUCH + two absolute axes
)

var protoNames = [...]string{"auto", "B", "A", "single"}

// String returns "auto", "A", "B" or "single", as written in the config.
func (p Protocol) String() string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return fmt.Sprintf("protocol(%d)", p)
}

// ParseProtocol parses a config value: "", "auto", "A", "B" or "single".
func ParseProtocol(s string) (Protocol, error) {
	switch s {
	case "", "auto":
		return ProtoAuto, nil
	case "A", "a":
		return ProtoA, nil
	case "B", "b":
		return ProtoB, nil
	case "single":
		return ProtoSingle, nil
	}
	return 0, fmt.Errorf("unknown protocol %q: use auto, A, B or single", s)
}

// DetectProtocol says how a device reports touches, from the axes it declares: slots or tracking
// ids mean B (some B devices never send ABS_MT_SLOT, but they declare tracking ids), multi-touch
// positions without them mean A, anything else is single touch.
func DetectProtocol(info *DeviceInfo) Protocol {
	switch {
	case info.HasAbs(AbsMTSlot) || info.HasAbs(AbsMTTrackingID):
		return ProtoB
	case info.HasAbs(AbsMTPositionX) && info.HasAbs(AbsMTPositionY):
		return ProtoA
	}
	return ProtoSingle
}

// Limits of the decoder's fixed storage.
const (
	// MaxSlots is the most protocol-B slots tracked; slots beyond it are ignored and counted.
	MaxSlots = 64
	// MaxFrameContacts is the most protocol-A contacts in one frame.
	MaxFrameContacts = 32
)

// ContactEvent is one contact's change on one device, in device units, stamped with the kernel
// time of the frame (SYN_REPORT) it belongs to. ID is unique among the device's live contacts.
type ContactEvent struct {
	Kind   game.Kind // KindDown, KindMove, KindUp or KindCancel
	ID     int32
	X, Y   int32
	TimeUS int64
}

// DecoderStats counts what a decoder met. Read it with Decoder.Stats.
type DecoderStats struct {
	Frames     int64 // SYN_REPORTs
	Dropped    int64 // SYN_DROPPED seen (kernel buffer overruns)
	Resyncs    int64 // slot states read back from a live device after a drop
	NoPosition int64 // touches with no position on the configured axes
	Overflow   int64 // slots or contacts beyond the fixed limits
}

// DecoderConfig says how to decode one device.
type DecoderConfig struct {
	Protocol Protocol // ProtoAuto: DetectProtocol
	// XAxis and YAxis carry the position; 0 and 0 mean the protocol's usual axes (ABS_MT_POSITION_X/Y
	// for A and B, ABS_X/ABS_Y for single touch). Some single-touch frames send it on others.
	XAxis, YAxis uint16
	// TrackMaxDist bounds protocol A's nearest-neighbour tracking, in device units: a contact further
	// than this from every previous one is new. 0: a tenth of the X range.
	TrackMaxDist int32
}

type slot struct {
	id      int32 // tracking id; -1: empty
	x, y    int32
	live    bool // reported as down
	changed bool
	started bool
	ended   bool
	blocked bool  // cancelled after a drop: ignore until a new tracking id
	liveID  int32 // the id reported down, while live: the device may change id before the up
	hasPos  bool
}

type frameContact struct {
	id   int32
	x, y int32
}

// Decoder turns one device's raw events into contact events. It keeps fixed-size state and never
// allocates in Feed. Not safe for concurrent use: one goroutine reads one device.
type Decoder struct {
	proto    Protocol
	xAxis    uint16
	yAxis    uint16
	maxDist  int64
	dropping bool
	stats    DecoderStats

	// protocol B
	slots [MaxSlots]slot
	cur   int

	// protocol A: the frame being read and the previous one
	pend      [MaxFrameContacts]frameContact
	npend     int
	pendX     int32
	pendY     int32
	pendHas   uint8 // bit 0: x seen, bit 1: y seen
	prev      [MaxFrameContacts]frameContact
	nprev     int
	nextID    int32
	used      [MaxFrameContacts]bool
	matched   [MaxFrameContacts]int
	afterDrop bool

	// single touch
	touch     bool
	wasTouch  bool
	sx, sy    int32
	sHas      uint8
	sID       int32
	sBlocked  bool
	sMoved    bool
	sReported bool
}

// NewDecoder returns a decoder for a device described by info.
func NewDecoder(info *DeviceInfo, cfg DecoderConfig) (*Decoder, error) {
	d := &Decoder{proto: cfg.Protocol, xAxis: cfg.XAxis, yAxis: cfg.YAxis}
	if d.proto == ProtoAuto {
		d.proto = DetectProtocol(info)
	}
	if d.xAxis == 0 && d.yAxis == 0 {
		if d.proto == ProtoSingle {
			d.xAxis, d.yAxis = AbsX, AbsY
		} else {
			d.xAxis, d.yAxis = AbsMTPositionX, AbsMTPositionY
		}
	}
	if !info.HasAbs(d.xAxis) || !info.HasAbs(d.yAxis) {
		return nil, fmt.Errorf("%w: %q declares no %s/%s axes: set x_axis and y_axis of its frame to the axes that carry the position",
			ErrDevice, info.Name, AxisName(d.xAxis), AxisName(d.yAxis))
	}
	d.maxDist = int64(cfg.TrackMaxDist)
	if d.maxDist <= 0 { // in int64: a device may declare the whole int32 range
		d.maxDist = (int64(info.Abs[d.xAxis].Max)-int64(info.Abs[d.xAxis].Min))/10 + 1
	}
	for i := range d.slots {
		d.slots[i].id = -1
	}
	// The kernel sends ABS_MT_SLOT only when the slot changes: the first events belong to the slot
	// the device was at when opened (EVIOCGABS, read into info), as libevdev starts.
	d.setSlot(info.Abs[AbsMTSlot].Value)
	return d, nil
}

// Protocol returns the protocol the decoder uses.
func (d *Decoder) Protocol() Protocol { return d.proto }

// Axes returns the position axes.
func (d *Decoder) Axes() (x, y uint16) { return d.xAxis, d.yAxis }

// Stats returns the decoder's counters.
func (d *Decoder) Stats() DecoderStats { return d.stats }

// Dropping reports whether the decoder is skipping events after a SYN_DROPPED.
func (d *Decoder) Dropping() bool { return d.dropping }

// Feed decodes one raw event and appends the contact events it completes (on SYN_REPORT) to out.
func (d *Decoder) Feed(ev RawEvent, out []ContactEvent) []ContactEvent {
	if d.dropping {
		// Everything up to the next SYN_REPORT is incomplete: drop it, then resynchronise.
		if ev.Type == EvSyn && ev.Code == SynReport {
			d.dropping = false
			out = d.afterDropped(ev.TimeUS, out)
		}
		return out
	}
	switch ev.Type {
	case EvSyn:
		switch ev.Code {
		case SynReport:
			d.stats.Frames++
			return d.report(ev.TimeUS, out)
		case SynMTReport:
			if d.proto == ProtoA {
				d.endAContact()
			}
		case SynDropped:
			d.stats.Dropped++
			d.dropping = true
		}
	case EvKey:
		if ev.Code == BtnTouch && d.proto == ProtoSingle {
			d.touch = ev.Value != 0
		}
	case EvAbs:
		switch d.proto {
		case ProtoB:
			d.absB(ev.Code, ev.Value)
		case ProtoA:
			d.absA(ev.Code, ev.Value)
		case ProtoSingle:
			d.absSingle(ev.Code, ev.Value)
		}
	}
	return out
}

func (d *Decoder) absB(code uint16, v int32) {
	switch code {
	case AbsMTSlot:
		if !d.setSlot(v) {
			d.stats.Overflow++
		}
		return
	}
	if d.cur < 0 {
		return
	}
	s := &d.slots[d.cur]
	switch code {
	case AbsMTTrackingID:
		if v < 0 {
			if s.id >= 0 {
				s.ended, s.changed, s.id = true, true, -1
			}
			s.blocked = false
			return
		}
		if s.id == v && (s.live || s.started) { // repeated, not a new contact
			return
		}
		if s.id >= 0 && s.id != v { // a new contact replaces one whose end we never saw
			s.ended = true
		}
		s.id, s.started, s.changed, s.blocked = v, true, true, false
	case d.xAxis:
		s.x, s.changed, s.hasPos = v, true, true
	case d.yAxis:
		s.y, s.changed, s.hasPos = v, true, true
	}
}

// setSlot makes slot v the current one; a slot beyond MaxSlots makes the events that follow
// ignored until the next ABS_MT_SLOT. It reports whether v is tracked.
func (d *Decoder) setSlot(v int32) bool {
	if v < 0 || v >= MaxSlots {
		d.cur = -1
		return false
	}
	d.cur = int(v)
	return true
}

func (d *Decoder) report(t int64, out []ContactEvent) []ContactEvent {
	switch d.proto {
	case ProtoB:
		for i := range d.slots {
			s := &d.slots[i]
			if !s.changed {
				continue
			}
			s.changed = false
			if s.ended && s.live {
				out = append(out, ContactEvent{Kind: game.KindUp, ID: s.liveID, X: s.x, Y: s.y, TimeUS: t})
				s.live = false
			}
			s.ended = false
			if s.blocked || s.id < 0 {
				s.started = false
				continue
			}
			if s.started {
				s.started = false
				if !s.hasPos {
					d.stats.NoPosition++
					continue
				}
				out = d.cancelDuplicate(i, s.id, t, out)
				s.live, s.liveID = true, s.id
				out = append(out, ContactEvent{Kind: game.KindDown, ID: s.id, X: s.x, Y: s.y, TimeUS: t})
			} else if s.live {
				out = append(out, ContactEvent{Kind: game.KindMove, ID: s.id, X: s.x, Y: s.y, TimeUS: t})
			}
		}
	case ProtoA:
		out = d.reportA(t, out)
	case ProtoSingle:
		out = d.reportSingle(t, out)
	}
	return out
}

// cancelDuplicate cancels a contact in another slot that still holds tracking id: ids are unique
// among live contacts, and a device that reuses one has lost the other's end.
func (d *Decoder) cancelDuplicate(slotIdx int, id int32, t int64, out []ContactEvent) []ContactEvent {
	for k := range d.slots {
		o := &d.slots[k]
		if k != slotIdx && o.live && o.liveID == id {
			out = append(out, ContactEvent{Kind: game.KindCancel, ID: id, X: o.x, Y: o.y, TimeUS: t})
			// Ignore the slot until a new tracking id, unless it already has one.
			o.live, o.blocked = false, o.id == id
		}
	}
	return out
}

func (d *Decoder) absA(code uint16, v int32) {
	switch code {
	case d.xAxis:
		d.pendX, d.pendHas = v, d.pendHas|1
	case d.yAxis:
		d.pendY, d.pendHas = v, d.pendHas|2
	}
}

func (d *Decoder) endAContact() {
	if d.pendHas != 3 {
		if d.pendHas != 0 {
			d.stats.NoPosition++
		}
		d.pendHas = 0
		return
	}
	if d.npend == MaxFrameContacts {
		d.stats.Overflow++
	} else {
		d.pend[d.npend] = frameContact{x: d.pendX, y: d.pendY}
		d.npend++
	}
	d.pendHas = 0
}

// reportA matches the frame's anonymous contacts to the previous frame's by nearest neighbour
// (closest pairs first, within maxDist): matched ones move, the rest of the previous frame go up
// and the rest of this frame go down with new ids.
func (d *Decoder) reportA(t int64, out []ContactEvent) []ContactEvent {
	if d.pendHas == 3 { // a last contact not closed by SYN_MT_REPORT
		d.endAContact()
	}
	d.pendHas = 0
	for i := 0; i < d.nprev; i++ {
		d.used[i] = false
	}
	for j := 0; j < d.npend; j++ {
		d.matched[j] = -1
	}
	for {
		bi, bj, best := -1, -1, d.maxDist*d.maxDist+1
		for i := 0; i < d.nprev; i++ {
			if d.used[i] {
				continue
			}
			for j := 0; j < d.npend; j++ {
				if d.matched[j] >= 0 {
					continue
				}
				// In int64, and only within maxDist on each axis: positions may span the whole
				// int32 range, whose differences and squares overflow.
				dx, dy := int64(d.prev[i].x)-int64(d.pend[j].x), int64(d.prev[i].y)-int64(d.pend[j].y)
				if dx > d.maxDist || -dx > d.maxDist || dy > d.maxDist || -dy > d.maxDist {
					continue
				}
				if dd := dx*dx + dy*dy; dd < best {
					bi, bj, best = i, j, dd
				}
			}
		}
		if bi < 0 {
			break
		}
		d.used[bi], d.matched[bj] = true, bi
	}
	for i := 0; i < d.nprev; i++ {
		if !d.used[i] {
			kind := game.KindUp
			if d.afterDrop {
				kind = game.KindCancel
			}
			out = append(out, ContactEvent{Kind: kind, ID: d.prev[i].id, X: d.prev[i].x, Y: d.prev[i].y, TimeUS: t})
		}
	}
	d.afterDrop = false
	for j := 0; j < d.npend; j++ {
		c := &d.pend[j]
		if i := d.matched[j]; i >= 0 {
			c.id = d.prev[i].id
			if c.x != d.prev[i].x || c.y != d.prev[i].y {
				out = append(out, ContactEvent{Kind: game.KindMove, ID: c.id, X: c.x, Y: c.y, TimeUS: t})
			}
		} else {
			d.nextID++
			c.id = d.nextID
			out = append(out, ContactEvent{Kind: game.KindDown, ID: c.id, X: c.x, Y: c.y, TimeUS: t})
		}
	}
	d.prev, d.nprev = d.pend, d.npend
	d.npend = 0
	return out
}

func (d *Decoder) absSingle(code uint16, v int32) {
	switch code {
	case d.xAxis:
		if d.sx != v || d.sHas&1 == 0 {
			d.sMoved = true
		}
		d.sx, d.sHas = v, d.sHas|1
	case d.yAxis:
		if d.sy != v || d.sHas&2 == 0 {
			d.sMoved = true
		}
		d.sy, d.sHas = v, d.sHas|2
	}
}

func (d *Decoder) reportSingle(t int64, out []ContactEvent) []ContactEvent {
	moved := d.sMoved
	d.sMoved = false
	switch {
	case d.touch && !d.wasTouch:
		d.wasTouch = true
		if d.sBlocked {
			return out
		}
		if d.sHas != 3 {
			d.stats.NoPosition++ // a touch with no position: never report it at 0,0
			d.sBlocked = true
			return out
		}
		d.sID++
		d.sReported = true
		out = append(out, ContactEvent{Kind: game.KindDown, ID: d.sID, X: d.sx, Y: d.sy, TimeUS: t})
	case !d.touch && d.wasTouch:
		d.wasTouch, d.sBlocked = false, false
		if d.sReported {
			d.sReported = false
			out = append(out, ContactEvent{Kind: game.KindUp, ID: d.sID, X: d.sx, Y: d.sy, TimeUS: t})
		}
	case d.touch && moved && d.sReported:
		out = append(out, ContactEvent{Kind: game.KindMove, ID: d.sID, X: d.sx, Y: d.sy, TimeUS: t})
	}
	return out
}

// afterDropped resynchronises without the device (a recording): contacts that were down may have
// lifted during the lost events, so each is cancelled and its slot ignored until a new contact
// starts in it. Protocol A and single touch resend their whole state in the next frame.
func (d *Decoder) afterDropped(t int64, out []ContactEvent) []ContactEvent {
	switch d.proto {
	case ProtoB:
		for i := range d.slots {
			s := &d.slots[i]
			s.changed, s.started, s.ended = false, false, false
			if s.live {
				out = append(out, ContactEvent{Kind: game.KindCancel, ID: s.liveID, X: s.x, Y: s.y, TimeUS: t})
				s.live = false
				s.blocked = s.id >= 0
			}
		}
	case ProtoA:
		d.npend, d.pendHas = 0, 0
		d.afterDrop = true // contacts missing from the next frame are cancelled, not lifted
	case ProtoSingle:
		d.sMoved = false
		if d.sReported {
			d.sReported = false
			out = append(out, ContactEvent{Kind: game.KindCancel, ID: d.sID, X: d.sx, Y: d.sy, TimeUS: t})
			d.sBlocked = d.touch
		}
		d.wasTouch = d.touch
	}
	return out
}

// SlotState is one protocol-B slot as read back from a live device (EVIOCGMTSLOTS).
type SlotState struct {
	ID   int32 // tracking id; -1: empty
	X, Y int32
}

// Resync brings a protocol-B decoder back in step with the device's real slot state after a
// SYN_DROPPED (read with EVIOCGMTSLOTS by the live layer): contacts still there continue (moving if
// they moved), gone ones go up, new ones go down. Slots beyond state are empty. cur is the device's
// current slot (EVIOCGABS(ABS_MT_SLOT)): the events that follow without ABS_MT_SLOT belong to it.
// It replaces the recording fallback of cancelling.
func (d *Decoder) Resync(state []SlotState, cur int32, t int64, out []ContactEvent) []ContactEvent {
	d.stats.Resyncs++
	d.dropping = false
	if !d.setSlot(cur) {
		d.stats.Overflow++
	}
	// Ends and moves first: a contact whose slot is empty now, or holds another id, goes up.
	for i := range d.slots {
		s := &d.slots[i]
		n := slotState(state, i)
		s.changed, s.started, s.ended, s.blocked = false, false, false, false
		switch {
		case !s.live:
		case n.ID == s.liveID:
			if n.X != s.x || n.Y != s.y {
				out = append(out, ContactEvent{Kind: game.KindMove, ID: s.liveID, X: n.X, Y: n.Y, TimeUS: t})
			}
		default:
			out = append(out, ContactEvent{Kind: game.KindUp, ID: s.liveID, X: s.x, Y: s.y, TimeUS: t})
			s.live = false
		}
	}
	// Then new contacts. A device listing an id that another slot holds down is not a second
	// contact: that slot is ignored until it starts a new one (ids are unique among live contacts).
	for i := range d.slots {
		s := &d.slots[i]
		n := slotState(state, i)
		if !s.live && n.ID >= 0 {
			if d.liveElsewhere(i, n.ID) {
				s.blocked = true
			} else {
				out = append(out, ContactEvent{Kind: game.KindDown, ID: n.ID, X: n.X, Y: n.Y, TimeUS: t})
				s.live, s.liveID = true, n.ID
			}
		}
		s.id, s.x, s.y, s.hasPos = n.ID, n.X, n.Y, n.ID >= 0
	}
	return out
}

// slotState returns slot i of a read-back state; slots beyond it are empty.
func slotState(state []SlotState, i int) SlotState {
	if i < len(state) {
		return state[i]
	}
	return SlotState{ID: -1}
}

// liveElsewhere reports whether a slot other than i holds contact id down.
func (d *Decoder) liveElsewhere(i int, id int32) bool {
	for k := range d.slots {
		if k != i && d.slots[k].live && d.slots[k].liveID == id {
			return true
		}
	}
	return false
}
