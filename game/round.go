package game

import (
	"errors"
	"fmt"
)

// Errors returned by the game package.
var (
	// ErrUnknownGame is returned for a game name that is not in Games.
	ErrUnknownGame = errors.New("game: unknown game")
)

func errUnknownGame(name string) error { return fmt.Errorf("%w %q", ErrUnknownGame, name) }

// RoundParams identifies a round and says how it begins.
type RoundParams struct {
	Wall  string // wall id, copied into every ScoreEvent
	Round uint32 // round number, part of the ScoreEvent key
	Seed  uint64 // seeds the round's generator: same seed, same challenge
	Game  string // "" plays the config's round.game
	// Running starts the round running at tick 0 with no countdown (sim); otherwise it starts idle
	// and a start action begins its countdown.
	Running bool
	// Countdown, when above 0, starts the round counting down at once for that many ticks: its
	// running tick 0 is the Countdown-th tick after the one it was made in (a start command from
	// the backend for a given show time).
	Countdown int64
	// StartUS is the show time (the backend's clock, µs) of the round's tick 0, fixed when the round
	// begins: every ScoreEvent's ShowUS is StartUS plus its tick's offset (0 in sim: ticks from 0).
	StartUS int64
	// Names are the contestants' names per lane ("" or missing: the lane's name from the config).
	Names []string
}

// Hit is one touch down in a lane as the round judged it: what it caught (Points above 0) or that
// it caught nothing (Miss). Hits are kept for the picture (bursts, "+N", ripples): they are state
// the wall draws from, not part of any ScoreEvent.
type Hit struct {
	Tick   int64 // round tick it was judged in
	Lane   int8
	Miss   bool  // touched nothing
	Golden bool  // caught a golden packet
	XMM    int32 // where, in wall mm
	YMM    int32
	Points int64 // what it scored (0 for a miss)
	Object uint32
}

// Gone is an object that left the lanes that had not caught it (expired, or fell out), for its
// vanishing animation.
type Gone struct {
	Tick   int64 // round tick it went in
	Object Object
	At     [2]int32 // lane-relative position it went at
}

// HitRing and GoneRing are how many recent hits and gone objects a round keeps for the picture:
// sixteen lanes tapping ten times a second for 1.5 s, and a wall's worth of vanishing targets.
const (
	HitRing  = 256
	GoneRing = 64
)

// Contact is a touch the round is tracking: which lane it went down in and where it is now.
type Contact struct {
	ID     int32
	Lane   int8 // -1: went down outside every lane
	Source Source
	XMM    int32
	YMM    int32
}

// Round is one round of one game on the whole wall: its phase, its objects, every lane's score and
// the touches in progress. It is a pure state machine advanced by Step; it is not safe for
// concurrent use, and what its accessors return is valid until the next Step.
type Round struct {
	cfg    *Config
	params RoundParams
	game   Game
	rate   int
	length int64 // running ticks in the round

	phase     Phase
	prevPhase Phase // phase to resume to from paused
	tick      int64 // steps taken
	runTick   int64 // running ticks elapsed
	countdown int64 // countdown ticks left
	seq       uint64
	nextID    uint32
	rng       Rand
	scores    [MaxLanes]int64
	takeover  [MaxLanes]bool // lane in keyboard mode
	contacts  []Contact      // active contacts, in the order they went down
	objects   []Object       // alive objects, in spawn order
	events    []ScoreEvent
	ignored   int64 // touches dropped because MaxContacts were down
	hashBuf   []byte
	spawned   Object
	names     [MaxLanes]string
	hits      [HitRing]Hit
	nhits     int64 // hits recorded since the round began
	gone      [GoneRing]Gone
	ngone     int64
}

// NewRound returns a round of cfg (validated) with the given identity. It allocates all the storage
// the round will ever need, so Step never allocates.
func NewRound(cfg *Config, p RoundParams) (*Round, error) {
	if p.Game == "" {
		p.Game = cfg.Round.Game
	}
	g, err := NewGame(p.Game, cfg)
	if err != nil {
		return nil, err
	}
	r := &Round{
		cfg: cfg, params: p, game: g, rate: cfg.Round.TickRate,
		length:   int64(cfg.Round.Seconds) * int64(cfg.Round.TickRate),
		rng:      Rand{State: p.Seed},
		contacts: make([]Contact, 0, MaxContacts),
		objects:  make([]Object, 0, g.MaxAlive()),
		events:   make([]ScoreEvent, 0, 4*MaxLanes),
		hashBuf:  make([]byte, 0, 128+MaxLanes*(16+MaxNameLen)+MaxContacts*16+g.MaxAlive()*48),
	}
	copy(r.names[:], p.Names)
	switch {
	case p.Running:
		r.enterRunning()
	case p.Countdown > 0:
		r.phase, r.countdown = PhaseCountdown, p.Countdown
	}
	return r, nil
}

// Step applies one tick's inputs, in order, then advances the round by one tick. Touches are judged
// against the objects as they were drawn before the tick. ScoreEvents it produced are in Events.
func (r *Round) Step(in []Input) {
	r.events = r.events[:0]
	for i := range in {
		r.apply(&in[i])
	}
	switch r.phase {
	case PhaseCountdown:
		r.countdown--
		if r.countdown <= 0 {
			r.enterRunning()
		}
	case PhaseRunning:
		r.runTick++
		if r.runTick >= r.length {
			r.phase = PhaseFinished
			r.vanishAll()
		} else {
			r.spawnAndExpire()
		}
	}
	r.tick++
}

func (r *Round) enterRunning() {
	r.phase = PhaseRunning
	r.runTick = 0
	r.spawnAndExpire()
}

func (r *Round) spawnAndExpire() {
	keep := r.objects[:0]
	for _, o := range r.objects {
		if o.Expire > r.runTick {
			keep = append(keep, o)
		} else {
			r.vanish(&o)
		}
	}
	r.objects = keep
	o := &r.spawned // a field, not a local: a pointer passed to an interface method escapes
	*o = Object{}
	if r.game.Spawn(r.runTick, &r.rng, o) {
		if len(r.objects) == cap(r.objects) { // cannot happen with MaxAlive right; never grow
			copy(r.objects, r.objects[1:])
			r.objects = r.objects[:len(r.objects)-1]
		}
		r.nextID++
		o.ID = r.nextID
		o.Spawn = r.runTick
		r.objects = append(r.objects, *o)
	}
}

// vanish records that o left every lane that had not caught it.
func (r *Round) vanish(o *Object) {
	if o.Taken == uint16(1)<<len(r.cfg.Lanes)-1 {
		return // every lane caught it: nothing left to vanish
	}
	x, y := o.Pos(r.runTick, r.rate)
	r.gone[r.ngone%GoneRing] = Gone{Tick: r.tick, Object: *o, At: [2]int32{x, y}}
	r.ngone++
}

// vanishAll ends every object at once (the round finished or was aborted).
func (r *Round) vanishAll() {
	for i := range r.objects {
		r.vanish(&r.objects[i])
	}
	r.objects = r.objects[:0]
}

func (r *Round) apply(in *Input) {
	switch in.Kind {
	case KindStart:
		if r.phase == PhaseIdle {
			r.countdown = int64(r.cfg.Round.CountdownSeconds) * int64(r.rate)
			if r.countdown == 0 {
				r.enterRunning()
			} else {
				r.phase = PhaseCountdown
			}
		}
	case KindPause:
		if r.phase == PhaseRunning || r.phase == PhaseCountdown {
			r.prevPhase, r.phase = r.phase, PhasePaused
		}
	case KindResume:
		if r.phase == PhasePaused {
			r.phase = r.prevPhase
		}
	case KindAbort:
		if !r.phase.Over() && r.phase != PhaseIdle {
			r.phase = PhaseAborted
			r.vanishAll()
		}
	case KindTakeover:
		if int(in.Lane) < len(r.cfg.Lanes) && in.Lane >= 0 {
			r.takeover[in.Lane] = in.Value != 0
		}
	case KindZoneTap:
		if in.Lane >= 0 && int(in.Lane) < len(r.cfg.Lanes) && in.Value >= 1 && in.Value <= 9 {
			x, y := ZoneCentre(r.cfg, int(in.Lane), int(in.Value))
			// A zone tap is a keyboard action whatever its source: a taken-over lane takes it.
			tap := Input{Kind: KindDown, Source: SourceKeyboard, Contact: KeyboardContact(int(in.Lane)), XMM: x, YMM: y}
			r.touchDown(&tap)
			r.release(tap.Contact)
		}
	case KindAdjust:
		if in.Lane >= 0 && int(in.Lane) < len(r.cfg.Lanes) && r.phase != PhaseIdle {
			r.score(int(in.Lane), int64(in.Value), ReasonOperator)
		}
	case KindNames:
		for i := range r.names {
			r.names[i] = ""
		}
		copy(r.names[:len(r.cfg.Lanes)], in.Names)
	case KindDown:
		r.touchDown(in)
	case KindMove:
		if c := r.contact(in.Contact); c != nil {
			c.XMM, c.YMM = in.XMM, in.YMM
		}
	case KindUp, KindCancel:
		r.release(in.Contact)
	}
}

func (r *Round) contact(id int32) *Contact {
	for i := range r.contacts {
		if r.contacts[i].ID == id {
			return &r.contacts[i]
		}
	}
	return nil
}

func (r *Round) release(id int32) {
	for i := range r.contacts {
		if r.contacts[i].ID == id {
			r.contacts = append(r.contacts[:i], r.contacts[i+1:]...)
			return
		}
	}
}

// ZoneCentre returns the wall point at the centre of zone (1..9) of lane: the lane split 3 x 3 and
// numbered as a numeric keypad, 7 8 9 on top, 1 2 3 at the bottom.
func ZoneCentre(cfg *Config, lane, zone int) (int32, int32) {
	l := cfg.Lanes[lane]
	col, row := int32((zone-1)%3), 2-int32((zone-1)/3)
	return l.XMM + (2*col+1)*l.WidthMM/6, l.YMM + (2*row+1)*l.HeightMM/6
}

// Takeover reports whether lane is in keyboard mode.
func (r *Round) Takeover(lane int) bool { return r.takeover[lane] }

// LaneAt returns the index of the lane containing wall point (x, y), or -1.
func LaneAt(cfg *Config, x, y int32) int {
	for i := range cfg.Lanes {
		if cfg.Lanes[i].Contains(x, y) {
			return i
		}
	}
	return -1
}

func (r *Round) touchDown(in *Input) {
	r.release(in.Contact) // a repeated down for a live contact starts it afresh
	if len(r.contacts) == cap(r.contacts) {
		r.ignored++
		return
	}
	lane := LaneAt(r.cfg, in.XMM, in.YMM)
	if lane >= 0 && r.takeover[lane] && in.Source != SourceKeyboard && r.cfg.Keyboard.IgnoreTouch {
		return // the lane is driven by keyboard: the wall's touches there are ignored
	}
	r.contacts = append(r.contacts, Contact{ID: in.Contact, Lane: int8(lane), Source: in.Source, XMM: in.XMM, YMM: in.YMM})
	if lane < 0 {
		return
	}
	if r.phase != PhaseRunning {
		r.hit(Hit{Lane: int8(lane), Miss: true, XMM: in.XMM, YMM: in.YMM})
		return
	}
	l := &r.cfg.Lanes[lane]
	x, y := int64(in.XMM-l.XMM), int64(in.YMM-l.YMM)
	bit := uint16(1) << lane
	for i := range r.objects {
		o := &r.objects[i]
		if o.Taken&bit != 0 {
			continue
		}
		ox, oy := o.Pos(r.runTick, r.rate)
		dx, dy, rr := x-int64(ox), y-int64(oy), int64(o.R)
		if dx*dx+dy*dy > rr*rr {
			continue
		}
		o.Taken |= bit
		pts, reason := r.game.Points(o, r.runTick)
		r.score(lane, pts, reason)
		r.hit(Hit{Lane: int8(lane), Golden: o.Golden, XMM: in.XMM, YMM: in.YMM, Points: pts, Object: o.ID})
		return // one touch catches one object: the oldest under the finger
	}
	r.hit(Hit{Lane: int8(lane), Miss: true, XMM: in.XMM, YMM: in.YMM})
}

func (r *Round) hit(h Hit) {
	h.Tick = r.tick
	r.hits[r.nhits%HitRing] = h
	r.nhits++
}

// Hits calls f for every hit of the round's last HitRing, newest first, until f returns false. It
// never allocates.
func (r *Round) Hits(f func(h *Hit) bool) {
	for i := r.nhits - 1; i >= 0 && i >= r.nhits-HitRing; i-- {
		if !f(&r.hits[i%HitRing]) {
			return
		}
	}
}

// GoneObjects calls f for every object gone in the round's last GoneRing, newest first, until f
// returns false. It never allocates.
func (r *Round) GoneObjects(f func(g *Gone) bool) {
	for i := r.ngone - 1; i >= 0 && i >= r.ngone-GoneRing; i-- {
		if !f(&r.gone[i%GoneRing]) {
			return
		}
	}
}

// Name returns lane's name as the wall shows it: the contestant's name when one is set, else the
// lane's name from the config.
func (r *Round) Name(lane int) string {
	if n := r.names[lane]; n != "" {
		return n
	}
	return r.cfg.Lanes[lane].Name
}

// Names returns the contestants' names set for the round, lane by lane ("" where none is set).
func (r *Round) Names() []string {
	n := len(r.cfg.Lanes)
	for n > 0 && r.names[n-1] == "" {
		n--
	}
	if n == 0 {
		return nil
	}
	return append([]string(nil), r.names[:n]...)
}

// Ranks fills dst with every lane's rank by score, best first, with ties sharing a rank
// (competition ranking: scores 9, 9, 5 rank 1, 1, 3), and returns it. An aborted round, or one not
// over, has no ranking: it returns dst[:0].
func (r *Round) Ranks(dst []int) []int {
	dst = dst[:0]
	if r.phase != PhaseFinished {
		return dst
	}
	n := len(r.cfg.Lanes)
	for i := 0; i < n; i++ {
		rank := 1
		for j := 0; j < n; j++ {
			if r.scores[j] > r.scores[i] {
				rank++
			}
		}
		dst = append(dst, rank)
	}
	return dst
}

func (r *Round) score(lane int, delta int64, reason string) {
	if delta == 0 {
		return
	}
	r.scores[lane] += delta
	r.seq++
	r.events = append(r.events, ScoreEvent{Wall: r.params.Wall, Round: r.params.Round, Seq: r.seq, Tick: r.tick,
		Lane: lane, Delta: delta, Total: r.scores[lane], Reason: reason, ShowUS: r.ShowUS(r.tick)})
}

// ShowUS returns the show time of the round's tick: StartUS plus tick/rate seconds.
func (r *Round) ShowUS(tick int64) int64 {
	return r.params.StartUS + tick*1_000_000/int64(r.rate)
}

// Events returns the ScoreEvents of the last Step, in seq order. The slice is reused by Step.
func (r *Round) Events() []ScoreEvent { return r.events }

// Phase returns the round's phase.
func (r *Round) Phase() Phase { return r.phase }

// Tick returns the number of steps taken: the tick the next Step applies to.
func (r *Round) Tick() int64 { return r.tick }

// RunTick returns the running ticks elapsed.
func (r *Round) RunTick() int64 { return r.runTick }

// Length returns the round's length in running ticks.
func (r *Round) Length() int64 { return r.length }

// CountdownTicks returns the countdown ticks left.
func (r *Round) CountdownTicks() int64 { return r.countdown }

// Params returns the round's identity.
func (r *Round) Params() RoundParams { return r.params }

// GameName returns the name of the game the round plays.
func (r *Round) GameName() string { return r.game.Name() }

// Config returns the config the round was made with. The caller must not change it.
func (r *Round) Config() *Config { return r.cfg }

// TickRate returns ticks per second.
func (r *Round) TickRate() int { return r.rate }

// Score returns lane's score.
func (r *Round) Score(lane int) int64 { return r.scores[lane] }

// Seq returns the seq of the last ScoreEvent (0 before any).
func (r *Round) Seq() uint64 { return r.seq }

// Contacts returns the touches in progress. The slice is reused by Step.
func (r *Round) Contacts() []Contact { return r.contacts }

// Objects returns the objects alive, lane-relative. The slice is reused by Step.
func (r *Round) Objects() []Object { return r.objects }

// Ignored returns how many touch downs were dropped because MaxContacts were already down.
func (r *Round) Ignored() int64 { return r.ignored }

// Hash returns a 64-bit FNV-1a hash of a canonical encoding of the whole round state. Two rounds
// with the same hash after the same tick are, for every purpose of the show, the same.
func (r *Round) Hash() uint64 {
	b := r.hashBuf[:0]
	b = appendU64(b, uint64(r.phase)|uint64(r.prevPhase)<<8)
	b = appendU64(b, uint64(r.tick))
	b = appendU64(b, uint64(r.runTick))
	b = appendU64(b, uint64(r.countdown))
	b = appendU64(b, r.seq)
	b = appendU64(b, uint64(r.nextID))
	b = appendU64(b, r.rng.State)
	b = appendU64(b, uint64(r.ignored))
	for i := range r.cfg.Lanes {
		b = appendU64(b, uint64(r.scores[i]))
		if r.takeover[i] {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	for i := range r.cfg.Lanes { // names only when set, so rounds without names hash as before
		if r.names[i] != "" {
			b = appendU64(b, uint64(i))
			b = append(b, r.names[i]...)
		}
	}
	b = appendU64(b, uint64(len(r.contacts)))
	for _, c := range r.contacts {
		b = appendU64(b, uint64(uint32(c.ID))|uint64(uint8(c.Lane))<<32)
		b = appendU64(b, uint64(uint32(c.XMM))|uint64(uint32(c.YMM))<<32)
	}
	b = appendU64(b, uint64(len(r.objects)))
	for _, o := range r.objects {
		b = appendU64(b, uint64(o.ID)|uint64(o.Taken)<<32)
		b = appendU64(b, uint64(o.Spawn))
		b = appendU64(b, uint64(o.Expire))
		b = appendU64(b, uint64(uint32(o.X))|uint64(uint32(o.Y))<<32)
		b = appendU64(b, uint64(uint32(o.VY))|uint64(uint32(o.R))<<32)
		if o.Golden {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	r.hashBuf = b
	h := uint64(fnvOffset64)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return h
}

// The state hashes are 64-bit FNV-1a.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnvU64 mixes v's 8 bytes, least significant first, into the FNV-1a hash h.
func fnvU64(h, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= fnvPrime64
		v >>= 8
	}
	return h
}

func appendU64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}
