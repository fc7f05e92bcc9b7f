package game

// Autoplay defaults: a quick but human contestant.
const (
	// DefaultReactionMS is the autoplay player's mean time from seeing an object to touching it: a
	// focused contestant's visual reaction plus the reach of an arm.
	DefaultReactionMS = 350
	// DefaultMissPercent is how often the autoplay player's touch lands beside its object, so the
	// picture shows misses (ripples) as well as hits.
	DefaultMissPercent = 12
)

// Bot is the built-in autoplay player: one contestant per lane who looks at the objects on the
// wall, picks one, reacts after a human-like delay and touches where the object will be, sometimes
// missing. It decides from the round's visible state before each step and draws from its own
// random stream (seeded from the round's seed, lane by lane, so the lanes play differently and a
// rerun plays the same). Its inputs are ordinary touches with source "bot": journaled, and replayed
// from the journal without a Bot. Not safe for concurrent use.
type Bot struct {
	cfg   *Config
	lanes [MaxLanes]botLane
}

type botLane struct {
	rng   Rand
	pace  int64 // this contestant's reaction, in per-mille of the configured one
	state uint8 // botIdle, botAiming, botDown
	at    int64 // round tick of the next action
	x, y  int32 // wall mm of the planned touch
}

const (
	botIdle uint8 = iota
	botAiming
	botDown
)

// NewBot returns a player for every lane of cfg, seeded from seed.
func NewBot(cfg *Config, seed uint64) *Bot {
	b := &Bot{cfg: cfg}
	for i := range cfg.Lanes {
		l := &b.lanes[i]
		l.rng = Rand{State: seed ^ (uint64(i)+1)*0xd1b54a32d192ed03}
		l.pace = int64(l.rng.Range(800, 1250))
	}
	return b
}

// Inputs appends the touches the players make in the tick r is about to step. It never allocates
// when out has room for two inputs a lane.
func (b *Bot) Inputs(r *Round, out []Input) []Input {
	running := r.Phase() == PhaseRunning
	for i := range b.cfg.Lanes {
		l := &b.lanes[i]
		switch {
		case l.state == botDown: // lift the finger a tick after touching
			out = append(out, Input{Kind: KindUp, Source: SourceBot, Contact: BotContact(i), XMM: l.x, YMM: l.y})
			l.state = botIdle
			l.at = r.Tick() + b.ticks(int64(l.rng.Range(80, 220))) // a breath before the next
		case !running:
			l.state = botIdle
		case l.state == botAiming && r.Tick() >= l.at:
			out = append(out, Input{Kind: KindDown, Source: SourceBot, Contact: BotContact(i), XMM: l.x, YMM: l.y})
			l.state = botDown
		case l.state == botIdle && r.Tick() >= l.at:
			b.aim(r, i)
		}
	}
	return out
}

// ticks converts milliseconds to ticks, at least one.
func (b *Bot) ticks(ms int64) int64 {
	return max(1, ms*int64(b.cfg.Round.TickRate)/1000)
}

// aim picks lane i's next object: the one that leaves soonest among those still there when the
// finger arrives, and plans where to touch it.
func (b *Bot) aim(r *Round, i int) {
	l := &b.lanes[i]
	lane := b.cfg.Lanes[i]
	react := int64(b.cfg.Autoplay.ReactionMS) * l.pace / 1000
	react = react * int64(l.rng.Range(80, 120)) / 100
	dt := b.ticks(react)
	rt := r.RunTick() + dt // the running tick the touch is judged in
	bit := uint16(1) << i
	var best *Object
	for k := range r.Objects() {
		o := &r.Objects()[k]
		if o.Taken&bit != 0 || o.Expire <= rt+1 {
			continue
		}
		_, y := o.Pos(rt, r.TickRate())
		if y < o.R || y > lane.HeightMM-o.R {
			continue // not (or no longer) inside the lane when the finger gets there
		}
		if best == nil || o.Expire < best.Expire {
			best = o
		}
	}
	if best == nil {
		l.at = r.Tick() + b.ticks(50) // look again shortly
		return
	}
	x, y := best.Pos(rt, r.TickRate())
	// A steady hand lands within 40 % of the radius; a miss lands 1.3..2 radii away.
	jit := best.R * 2 / 5
	x += l.rng.Range(-jit, jit)
	y += l.rng.Range(-jit, jit)
	if int(l.rng.Uint64()%100) < b.cfg.Autoplay.MissPercent {
		d := best.R * l.rng.Range(13, 20) / 10
		// Eight directions as tenths: (7, 7)/10 is a unit diagonal near enough.
		dirs := [8][2]int32{{10, 0}, {-10, 0}, {0, 10}, {0, -10}, {7, 7}, {-7, 7}, {7, -7}, {-7, -7}}
		dir := dirs[l.rng.Uint64()%8]
		x += dir[0] * d / 10
		y += dir[1] * d / 10
	}
	x = min(max(x, 0), lane.WidthMM-1)
	y = min(max(y, 0), lane.HeightMM-1)
	l.state, l.at = botAiming, r.Tick()+dt
	l.x, l.y = lane.XMM+x, lane.YMM+y
}
