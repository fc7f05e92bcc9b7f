package input

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"tapwall/game"
)

// MaxWallContacts bounds the contacts the wall tracks at once (ghosts included); more are dropped
// and counted.
const MaxWallContacts = 256

// maxHeld bounds the contacts waiting at a seam for their continuation.
const maxHeld = 32

// WallEvent is a contact on the wall: a game touch in millimetres with its wall contact id, the
// lane it was routed to, the frame it came from and its kernel timestamp.
type WallEvent struct {
	Kind    game.Kind
	Contact int32
	XMM     int32
	YMM     int32
	Lane    int8 // -1: outside every lane (never emitted: such contacts are suppressed)
	Frame   int8
	TimeUS  int64
}

// Input returns the event as a game input from a touch frame.
func (e WallEvent) Input() game.Input {
	return game.Input{Kind: e.Kind, Source: game.SourceTouch, Contact: e.Contact, XMM: e.XMM, YMM: e.YMM, TimeUS: e.TimeUS}
}

// WallStats counts what the wall's filters did, for the HUD and the logs.
type WallStats struct {
	Downs      int64 // contacts that went down on the wall
	Ghosts     int64 // downs outside every lane or in a dead zone, suppressed
	OverLimit  int64 // downs over a lane's contact limit, suppressed
	Dejittered int64 // moves below the jitter threshold, dropped
	Stuck      int64 // contacts cancelled by the watchdog after a lost touch-up
	Seams      int64 // contacts carried across a seam between frames
	Merged     int64 // contacts seen by two overlapping frames, merged into one
	Strays     int64 // events for contacts the wall does not know (after a drop), ignored
	Full       int64 // downs dropped because MaxWallContacts were tracked
}

// frame is one touch frame's place on the wall and its mapping from device units.
type frame struct {
	cfg          game.FrameConfig
	x, y, w, h   int64 // rectangle, mm
	attached     bool
	xAxis, yAxis uint16
	xmin, ymin   int64
	rx, ry       int64 // axis ranges (max - min), at least 1
	calib        bool
	c            [6]float64
}

type owner struct {
	frame int8
	id    int32
}

type wallContact struct {
	id         int32
	own        [2]owner // primary, secondary (overlapping frame); frame -1: none
	x, y       int32    // last emitted position
	lane       int8
	suppressed bool
	held       bool // waiting at a seam
	last       int64
}

type heldUp struct {
	idx      int // index into contacts
	frame    int8
	x, y     int32
	t        int64
	deadline int64
}

// Wall maps every frame's contacts onto the wall in millimetres, joins contacts across seams and
// overlaps, filters jitter, ghosts and stuck contacts, and routes contacts to lanes. It keeps fixed
// storage and never allocates in Process or Expire. Not safe for concurrent use: the frame
// goroutine owns it; device readers hand it their events.
type Wall struct {
	cfg      *game.Config
	frames   []frame
	lanes    []laneZone
	contacts []wallContact
	held     []heldUp
	laneN    [game.MaxLanes]int
	nextID   int32
	seamDist int64
	seamTime int64
	mergeD   int64
	jitter   int32
	stuck    int64
	limit    int
	checkAt  int64 // next time the stuck-contact watchdog looks
	stats    WallStats
}

// stuckCheckUS is how often the watchdog looks for stuck contacts: often enough to be exact to a
// frame, rare enough to cost nothing per event.
const stuckCheckUS = 10_000

type laneZone struct{ x0, y0, x1, y1 int32 } // half-open, after dead zones

// NewWall returns the wall of cfg (validated with CheckConfig). With no [[frames]], one frame
// covers the whole wall.
func NewWall(cfg *game.Config) (*Wall, error) {
	if err := CheckConfig(cfg); err != nil {
		return nil, err
	}
	in := cfg.Input
	w := &Wall{cfg: cfg, contacts: make([]wallContact, 0, MaxWallContacts), held: make([]heldUp, 0, maxHeld),
		seamDist: int64(in.SeamDistanceMM), seamTime: int64(in.SeamTimeMS) * 1000, mergeD: int64(in.MergeDistanceMM),
		jitter: in.DejitterMM, stuck: int64(in.StuckMS) * 1000, limit: in.LaneContactLimit}
	fcs := cfg.Frames
	if len(fcs) == 0 {
		fcs = []game.FrameConfig{{Name: "wall", WidthMM: cfg.Wall.WidthMM, HeightMM: cfg.Wall.HeightMM}}
	}
	for _, fc := range fcs {
		f := frame{cfg: fc, x: int64(fc.XMM), y: int64(fc.YMM), w: int64(fc.WidthMM), h: int64(fc.HeightMM)}
		if len(fc.Calibration) == 6 && !isIdentity(fc.Calibration) {
			f.calib = true
			copy(f.c[:], fc.Calibration)
		}
		w.frames = append(w.frames, f)
	}
	for i, l := range cfg.Lanes {
		z := laneZone{l.XMM, l.YMM, l.XMM + l.WidthMM, l.YMM + l.HeightMM}
		for j, o := range cfg.Lanes {
			if i == j || o.YMM >= z.y1 || o.YMM+o.HeightMM <= z.y0 {
				continue
			}
			if o.XMM+o.WidthMM == l.XMM { // neighbour on the left
				z.x0 = l.XMM + in.DeadZoneMM
			}
			if o.XMM == l.XMM+l.WidthMM { // neighbour on the right
				z.x1 = l.XMM + l.WidthMM - in.DeadZoneMM
			}
		}
		w.lanes = append(w.lanes, z)
	}
	return w, nil
}

func isIdentity(c []float64) bool {
	return c[0] == 1 && c[1] == 0 && c[2] == 0 && c[3] == 0 && c[4] == 1 && c[5] == 0
}

// CheckConfig validates the [input] and [[frames]] parts of cfg and returns an error listing every
// problem, one line each, key first (it wraps ErrConfig).
func CheckConfig(cfg *game.Config) error {
	var problems []string
	bad := func(key, format string, args ...any) {
		problems = append(problems, key+": "+fmt.Sprintf(format, args...))
	}
	in := cfg.Input
	if in.SeamDistanceMM < 0 || in.SeamDistanceMM > 1000 {
		bad("input.seam_distance_mm", "%d: use 0..1000 mm", in.SeamDistanceMM)
	}
	if in.SeamTimeMS < 0 || in.SeamTimeMS > 1000 {
		bad("input.seam_time_ms", "%d: use 0..1000 ms", in.SeamTimeMS)
	}
	if in.MergeDistanceMM < 0 || in.MergeDistanceMM > 1000 {
		bad("input.merge_distance_mm", "%d: use 0..1000 mm", in.MergeDistanceMM)
	}
	if in.DejitterMM < 0 || in.DejitterMM > 100 {
		bad("input.dejitter_mm", "%d: use 0..100 mm", in.DejitterMM)
	}
	if in.StuckMS < 100 {
		bad("input.stuck_ms", "%d: use at least 100 ms", in.StuckMS)
	}
	if in.LaneContactLimit < 1 || in.LaneContactLimit > MaxWallContacts {
		bad("input.lane_contact_limit", "%d: use 1..%d", in.LaneContactLimit, MaxWallContacts)
	}
	if in.DeadZoneMM < 0 || 2*in.DeadZoneMM >= cfg.Lanes[0].WidthMM {
		bad("input.dead_zone_mm", "%d: must be at least 0 and less than half a lane", in.DeadZoneMM)
	}
	if in.ReopenMS < 10 || in.ReopenMS > 1000 {
		bad("input.reopen_ms", "%d: use 10..1000 ms (a frame must be back within 1 s)", in.ReopenMS)
	}
	names := map[string]bool{}
	for i, f := range cfg.Frames {
		key := fmt.Sprintf("frames[%d]", i)
		if f.Name == "" || names[f.Name] {
			bad(key+".name", "every frame needs a unique name, got %q", f.Name)
		}
		names[f.Name] = true
		if f.WidthMM <= 0 || f.HeightMM <= 0 || f.XMM < 0 || f.YMM < 0 ||
			int64(f.XMM)+int64(f.WidthMM) > int64(cfg.Wall.WidthMM) || int64(f.YMM)+int64(f.HeightMM) > int64(cfg.Wall.HeightMM) {
			bad(key+".x_mm", "frame %q (%d,%d %dx%d mm) must lie on the %dx%d mm wall", f.Name,
				f.XMM, f.YMM, f.WidthMM, f.HeightMM, cfg.Wall.WidthMM, cfg.Wall.HeightMM)
		}
		if f.Rotation != 0 && f.Rotation != 90 && f.Rotation != 180 && f.Rotation != 270 {
			bad(key+".rotation", "%d: use 0, 90, 180 or 270", f.Rotation)
		}
		if len(f.Calibration) != 0 && len(f.Calibration) != 6 {
			bad(key+".calibration", "want 6 numbers (a b c d e f), got %d", len(f.Calibration))
		}
		for _, v := range f.Calibration {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 100 {
				bad(key+".calibration", "%v is not a sane matrix entry", v)
				break
			}
		}
		if _, err := ParseProtocol(f.Protocol); err != nil {
			bad(key+".protocol", "%v", err)
		}
		if (f.XAxis == "") != (f.YAxis == "") {
			bad(key+".x_axis", "set both x_axis and y_axis, or neither")
		}
		for _, ax := range [...]struct{ k, a string }{{"x_axis", f.XAxis}, {"y_axis", f.YAxis}} {
			if ax.a != "" {
				if _, err := AxisCode(ax.a); err != nil {
					bad(key+"."+ax.k, "%v", err)
				}
			}
		}
		if f.MatchID != "" {
			if _, _, err := parseMatchID(f.MatchID); err != nil {
				bad(key+".match_id", "%v", err)
			}
		}
		if len(cfg.Frames) > 1 && f.MatchName == "" && f.MatchPhys == "" && f.MatchID == "" && f.MatchPath == "" {
			bad(key+".match_name", "frame %q matches every device: with several frames, set match_name, match_phys, match_id or match_path", f.Name)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	if len(problems) == 1 {
		return fmt.Errorf("%w: %s", ErrConfig, problems[0])
	}
	return fmt.Errorf("%w: %d problems:\n%s", ErrConfig, len(problems), strings.Join(problems, "\n"))
}

func parseMatchID(s string) (vendor, product uint16, err error) {
	v, p, ok := strings.Cut(s, ":")
	a, err1 := strconv.ParseUint(v, 16, 16)
	b, err2 := strconv.ParseUint(p, 16, 16)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q: want vendor:product in hex, e.g. 0eef:0001", s)
	}
	return uint16(a), uint16(b), nil
}

// FrameConfig returns the config of frame i (the implicit whole-wall frame when none are configured).
func (w *Wall) FrameConfig(i int) game.FrameConfig { return w.frames[i].cfg }

// Frames returns the number of frames.
func (w *Wall) Frames() int { return len(w.frames) }

// Stats returns the filters' counters.
func (w *Wall) Stats() WallStats { return w.stats }

// Active returns how many contacts are down on the wall (suppressed ghosts not counted).
func (w *Wall) Active() int {
	n := 0
	for i := range w.contacts {
		if !w.contacts[i].suppressed {
			n++
		}
	}
	return n
}

// Matches reports whether a device matches frame fc's match fields (empty fields match anything).
func Matches(fc *game.FrameConfig, info *DeviceInfo) bool {
	if fc.MatchName != "" && fc.MatchName != info.Name {
		return false
	}
	if fc.MatchPhys != "" && fc.MatchPhys != info.Phys {
		return false
	}
	if fc.MatchID != "" {
		v, p, err := parseMatchID(fc.MatchID)
		if err != nil || v != info.Vendor || p != info.Product {
			return false
		}
	}
	if fc.MatchPath != "" && fc.MatchPath != info.Path {
		found := false
		for _, l := range info.Links {
			found = found || l == fc.MatchPath
		}
		if !found {
			return false
		}
	}
	return true
}

// MatchFrame returns the first frame that info matches, or -1.
func (w *Wall) MatchFrame(info *DeviceInfo) int {
	for i := range w.frames {
		if Matches(&w.frames[i].cfg, info) {
			return i
		}
	}
	return -1
}

// DecoderConfig returns the decoder settings of frame i.
func (w *Wall) DecoderConfig(i int) DecoderConfig {
	fc := &w.frames[i].cfg
	p, _ := ParseProtocol(fc.Protocol)
	dc := DecoderConfig{Protocol: p}
	if fc.XAxis != "" {
		dc.XAxis, _ = AxisCode(fc.XAxis)
		dc.YAxis, _ = AxisCode(fc.YAxis)
	}
	return dc
}

// Attach sets frame i's mapping for a device with info whose position comes on axes x and y.
// Contacts of the frame's previous device are cancelled into out.
func (w *Wall) Attach(i int, info *DeviceInfo, x, y uint16, t int64, out []WallEvent) ([]WallEvent, error) {
	ax, ay := info.Abs[x], info.Abs[y]
	if !ax.Present || !ay.Present || ax.Max <= ax.Min || ay.Max <= ay.Min {
		return out, fmt.Errorf("%w: %q: axes %s/%s have no usable range (%d..%d, %d..%d)", ErrDevice, info.Name,
			AxisName(x), AxisName(y), ax.Min, ax.Max, ay.Min, ay.Max)
	}
	out = w.Detach(i, t, out)
	f := &w.frames[i]
	f.attached, f.xAxis, f.yAxis = true, x, y
	f.xmin, f.ymin = int64(ax.Min), int64(ay.Min)
	f.rx, f.ry = int64(ax.Max)-int64(ax.Min), int64(ay.Max)-int64(ay.Min) // up to 2^32-1: int64, never int32
	return out, nil
}

// Detach cancels every contact of frame i (its device vanished) into out.
func (w *Wall) Detach(i int, t int64, out []WallEvent) []WallEvent {
	for k := 0; k < len(w.contacts); {
		c := &w.contacts[k]
		for o := 1; o >= 0; o-- {
			if c.own[o].frame == int8(i) {
				c.own[o].frame = -1
			}
		}
		if c.own[0].frame < 0 && c.own[1].frame >= 0 {
			c.own[0], c.own[1].frame = c.own[1], -1
		}
		if c.own[0].frame < 0 && !c.held {
			out = w.end(k, game.KindCancel, c.x, c.y, t, out)
			continue
		}
		k++
	}
	return out
}

// Map returns the wall millimetres of device point (x, y) on frame i, clamped to the wall.
func (w *Wall) Map(i int, x, y int32) (int32, int32) {
	f := &w.frames[i]
	var px, py int64
	if f.calib {
		u := float64(int64(x)-f.xmin) / float64(f.rx)
		v := float64(int64(y)-f.ymin) / float64(f.ry)
		u, v = orient(&f.cfg, f.c[0]*u+f.c[1]*v+f.c[2], f.c[3]*u+f.c[4]*v+f.c[5])
		px = f.x + int64(math.Round(u*float64(f.w)))
		py = f.y + int64(math.Round(v*float64(f.h)))
	} else {
		// Exact integer path: x_mm = round(dx * W / rx), with ties rounded up, as the trace contract says.
		dx := clamp64(int64(x)-f.xmin, 0, f.rx)
		dy := clamp64(int64(y)-f.ymin, 0, f.ry)
		pn, pd, qn, qd := dx, f.rx, dy, f.ry
		switch f.cfg.Rotation {
		case 90:
			pn, pd, qn, qd = f.ry-dy, f.ry, dx, f.rx
		case 180:
			pn, qn = f.rx-dx, f.ry-dy
		case 270:
			pn, pd, qn, qd = dy, f.ry, f.rx-dx, f.rx
		}
		if f.cfg.MirrorX {
			pn = pd - pn
		}
		if f.cfg.MirrorY {
			qn = qd - qn
		}
		px = f.x + (2*pn*f.w+pd)/(2*pd)
		py = f.y + (2*qn*f.h+qd)/(2*qd)
	}
	return int32(clamp64(px, 0, int64(w.cfg.Wall.WidthMM)-1)), int32(clamp64(py, 0, int64(w.cfg.Wall.HeightMM)-1))
}

func clamp64(v, lo, hi int64) int64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Route returns the lane a down at (x, y) mm belongs to, or -1 (outside every lane or in a dead zone).
func (w *Wall) Route(x, y int32) int {
	for i, z := range w.lanes {
		if x >= z.x0 && x < z.x1 && y >= z.y0 && y < z.y1 {
			return i
		}
	}
	return -1
}

func (w *Wall) find(fr int8, id int32) (int, int) {
	for k := range w.contacts {
		c := &w.contacts[k]
		if c.own[0].frame == fr && c.own[0].id == id {
			return k, 0
		}
		if c.own[1].frame == fr && c.own[1].id == id {
			return k, 1
		}
	}
	return -1, 0
}

// Process takes one contact event of frame i and appends the wall events it causes to out.
func (w *Wall) Process(i int, ev ContactEvent, out []WallEvent) []WallEvent {
	out = w.Expire(ev.TimeUS, out)
	f := &w.frames[i]
	if !f.attached {
		return out
	}
	fr := int8(i)
	x, y := w.Map(i, ev.X, ev.Y)
	if ev.Kind == game.KindDown {
		return w.down(fr, ev.ID, x, y, ev.TimeUS, out)
	}
	k, o := w.find(fr, ev.ID)
	if k < 0 {
		if ev.Kind == game.KindMove || ev.Kind == game.KindUp {
			w.stats.Strays++
		}
		return out
	}
	c := &w.contacts[k]
	c.last = ev.TimeUS
	switch ev.Kind {
	case game.KindMove:
		if o == 1 || c.suppressed {
			return out
		}
		if abs32(x-c.x) < w.jitter && abs32(y-c.y) < w.jitter {
			w.stats.Dejittered++
			return out
		}
		c.x, c.y = x, y
		return append(out, w.event(c, game.KindMove, i, ev.TimeUS))
	case game.KindUp, game.KindCancel:
		if o == 1 { // the overlapping frame lost it; the primary still sees it
			c.own[1].frame = -1
			return out
		}
		if c.own[1].frame >= 0 { // hand over to the overlapping frame, no up
			c.own[0], c.own[1].frame = c.own[1], -1
			return out
		}
		if ev.Kind == game.KindUp && !c.suppressed && w.seamTime > 0 && w.nearOtherFrame(i, x, y) && len(w.held) < maxHeld {
			c.own[0].frame = -1
			c.held = true
			w.held = append(w.held, heldUp{idx: k, frame: fr, x: x, y: y, t: ev.TimeUS, deadline: ev.TimeUS + w.seamTime})
			return out
		}
		return w.end(k, ev.Kind, x, y, ev.TimeUS, out)
	}
	return out
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func (w *Wall) event(c *wallContact, kind game.Kind, fr int, t int64) WallEvent {
	return WallEvent{Kind: kind, Contact: c.id, XMM: c.x, YMM: c.y, Lane: c.lane, Frame: int8(fr), TimeUS: t}
}

// nearOtherFrame reports whether (x, y) is within the seam distance of another frame.
func (w *Wall) nearOtherFrame(i int, x, y int32) bool {
	for j := range w.frames {
		if j != i && w.rectDist2(j, x, y) <= w.seamDist*w.seamDist {
			return true
		}
	}
	return false
}

func (w *Wall) rectDist2(j int, x, y int32) int64 {
	f := &w.frames[j]
	dx := max(f.x-int64(x), 0, int64(x)-(f.x+f.w-1))
	dy := max(f.y-int64(y), 0, int64(y)-(f.y+f.h-1))
	return dx*dx + dy*dy
}

func (w *Wall) down(fr int8, id int32, x, y int32, t int64, out []WallEvent) []WallEvent {
	if k, _ := w.find(fr, id); k >= 0 { // a down for a contact we think is down: its up was lost
		out = w.end(k, game.KindCancel, w.contacts[k].x, w.contacts[k].y, t, out)
	}
	// A contact that left a neighbouring frame at this point a moment ago continues here.
	for h := range w.held {
		hu := &w.held[h]
		dx, dy := int64(hu.x-x), int64(hu.y-y)
		if hu.frame != fr && t-hu.t <= w.seamTime && dx*dx+dy*dy <= w.seamDist*w.seamDist {
			c := &w.contacts[hu.idx]
			c.own[0] = owner{frame: fr, id: id}
			c.held, c.last = false, t
			w.removeHeld(h)
			w.stats.Seams++
			if c.x == x && c.y == y {
				return out
			}
			c.x, c.y = x, y
			return append(out, w.event(c, game.KindMove, int(fr), t))
		}
	}
	// The same finger seen by an overlapping frame joins the contact that frame already reports.
	for k := range w.contacts {
		c := &w.contacts[k]
		if c.suppressed || c.held || c.own[0].frame == fr || c.own[1].frame >= 0 {
			continue
		}
		dx, dy := int64(c.x-x), int64(c.y-y)
		if dx*dx+dy*dy <= w.mergeD*w.mergeD && w.rectDist2(int(fr), c.x, c.y) == 0 {
			c.own[1] = owner{frame: fr, id: id}
			c.last = t
			w.stats.Merged++
			return out
		}
	}
	if len(w.contacts) == cap(w.contacts) {
		w.stats.Full++
		return out
	}
	lane := w.Route(x, y)
	c := wallContact{own: [2]owner{{frame: fr, id: id}, {frame: -1}}, x: x, y: y, lane: int8(lane), last: t}
	switch {
	case lane < 0:
		c.suppressed = true
		w.stats.Ghosts++
	case w.laneN[lane] >= w.limit:
		c.suppressed = true
		w.stats.OverLimit++
	default:
		w.nextID++
		c.id = w.nextID
		w.laneN[lane]++
		w.stats.Downs++
	}
	w.contacts = append(w.contacts, c)
	if c.suppressed {
		return out
	}
	return append(out, w.event(&w.contacts[len(w.contacts)-1], game.KindDown, int(fr), t))
}

// end removes contact k, emitting kind (up or cancel) unless it was suppressed.
func (w *Wall) end(k int, kind game.Kind, x, y int32, t int64, out []WallEvent) []WallEvent {
	c := w.contacts[k]
	if !c.suppressed {
		w.laneN[c.lane]--
		c.x, c.y = x, y
		out = append(out, w.event(&c, kind, int(max(c.own[0].frame, 0)), t))
	}
	last := len(w.contacts) - 1
	if k != last {
		w.contacts[k] = w.contacts[last]
		for h := range w.held { // keep held indices pointing at the moved contact
			if w.held[h].idx == last {
				w.held[h].idx = k
			}
		}
	}
	w.contacts = w.contacts[:last]
	return out
}

func (w *Wall) removeHeld(h int) {
	w.held[h] = w.held[len(w.held)-1]
	w.held = w.held[:len(w.held)-1]
}

// Expire ends what time has decided by now: contacts held at a seam whose continuation did not
// come go up (stamped with their own time), and contacts silent for longer than stuck_ms are
// cancelled. Call it every frame; Process calls it too.
func (w *Wall) Expire(now int64, out []WallEvent) []WallEvent {
	for h := 0; h < len(w.held); { // few and short-lived: looked at on every call
		hu := w.held[h]
		if now <= hu.deadline {
			h++
			continue
		}
		w.removeHeld(h)
		w.contacts[hu.idx].held = false
		out = w.end(hu.idx, game.KindUp, hu.x, hu.y, hu.t, out)
	}
	if now < w.checkAt {
		return out
	}
	w.checkAt = now + stuckCheckUS
	for k := 0; k < len(w.contacts); {
		c := &w.contacts[k]
		if !c.held && now-c.last > w.stuck {
			if !c.suppressed {
				w.stats.Stuck++
			}
			out = w.end(k, game.KindCancel, c.x, c.y, now, out)
			continue
		}
		k++
	}
	return out
}

// Flush ends every contact held at a seam now, as if its time had run out (end of a recording).
func (w *Wall) Flush(out []WallEvent) []WallEvent {
	for len(w.held) > 0 {
		hu := w.held[0]
		w.removeHeld(0)
		w.contacts[hu.idx].held = false
		out = w.end(hu.idx, game.KindUp, hu.x, hu.y, hu.t, out)
	}
	return out
}
