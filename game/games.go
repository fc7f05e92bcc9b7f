package game

// Rand is the round's seeded generator (SplitMix64). It lives in the round's state and is hashed
// with it, so a round draws the same sequence on every machine.
type Rand struct{ State uint64 }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.State += 0x9e3779b97f4a7c15
	z := r.State
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Range returns a number in [lo, hi]; hi < lo returns lo.
func (r *Rand) Range(lo, hi int32) int32 {
	if hi <= lo {
		return lo
	}
	return lo + int32(r.Uint64()%uint64(hi-lo+1))
}

// Object is one thing to touch in a lane: a target or a falling packet. Positions are lane-relative
// millimetres; every lane shows the same objects at the same instants, and Taken records, per lane,
// whether that lane has already scored it.
type Object struct {
	ID     uint32
	Spawn  int64 // running tick it appeared in
	Expire int64 // running tick from which it is gone
	X, Y   int32 // lane-relative position at Spawn
	VY     int32 // fall speed in mm/s (0: stands still)
	R      int32 // radius in mm
	Golden bool
	Taken  uint16 // bit L set: lane L has scored it
}

// Pos returns the object's lane-relative position at running tick rt.
func (o *Object) Pos(rt int64, rate int) (x, y int32) {
	return o.X, o.Y + int32(int64(o.VY)*(rt-o.Spawn)/int64(rate))
}

// Game is one kind of touch game: it decides what appears when and what catching it is worth. The
// Round owns the objects, routing and scores, so every game is fair across lanes by construction.
type Game interface {
	// Name is the game's name as chosen in the config ("targets", "rain").
	Name() string
	// Spawn fills o and returns true if a new object appears at running tick rt. It may draw from rng.
	Spawn(rt int64, rng *Rand, o *Object) bool
	// Points is what catching o at running tick rt is worth, and the ScoreEvent reason.
	Points(o *Object, rt int64) (int64, string)
	// MaxAlive bounds the objects alive at once, so the Round can size its storage up front.
	MaxAlive() int
}

// NewGame returns the game called name, tuned by cfg for lanes of laneW x laneH mm.
func NewGame(name string, cfg *Config) (Game, error) {
	rate := cfg.Round.TickRate
	laneW, laneH := cfg.Lanes[0].WidthMM, cfg.Lanes[0].HeightMM
	switch name {
	case "targets":
		t := cfg.Targets
		return &targets{every: msToTicks(t.SpawnEveryMS, rate), life: msToTicks(t.LifetimeMS, rate),
			r: t.RadiusMM, w: laneW, h: laneH, max: t.MaxPoints, min: t.MinPoints}, nil
	case "rain":
		rn := cfg.Rain
		return &rain{every: msToTicks(rn.SpawnEveryMS, rate), rate: rate, r: rn.RadiusMM, w: laneW, h: laneH,
			minV: rn.MinSpeedMMS, maxV: rn.MaxSpeedMMS, golden: rn.GoldenPercent, points: rn.Points,
			goldenPoints: rn.GoldenPoints}, nil
	}
	return nil, errUnknownGame(name)
}

// targets: circles appear at seeded places and live for a while; a quicker hit scores more.
type targets struct {
	every, life int64
	r, w, h     int32
	max, min    int64
}

// Name is "targets".
func (g *targets) Name() string { return "targets" }

// MaxAlive is the targets alive at once at most: one per spawn interval of a lifetime.
func (g *targets) MaxAlive() int { return int((g.life+g.every-1)/g.every) + 1 }

// Spawn places a target every spawn interval at a seeded place, whole in the lane.
func (g *targets) Spawn(rt int64, rng *Rand, o *Object) bool {
	if rt%g.every != 0 {
		return false
	}
	o.X = rng.Range(g.r, g.w-g.r)
	o.Y = rng.Range(g.r, g.h-g.r)
	o.R = g.r
	o.Expire = rt + g.life
	return true
}

// Points falls linearly from max_points when a target appears to min_points when it goes.
func (g *targets) Points(o *Object, rt int64) (int64, string) {
	left := o.Expire - rt
	return g.min + (g.max-g.min)*left/g.life, ReasonTarget
}

// rain: packets fall through the lane at seeded places and speeds; golden ones are worth more.
type rain struct {
	every                int64
	rate                 int
	r, w, h, minV, maxV  int32
	golden               int
	points, goldenPoints int64
}

// Name is "rain".
func (g *rain) Name() string { return "rain" }

// MaxAlive is the packets falling at once at most: one per spawn interval of the slowest fall.
func (g *rain) MaxAlive() int {
	fall := int64(g.h+2*g.r) * int64(g.rate) / int64(g.minV)
	return int((fall+g.every)/g.every) + 1
}

// Spawn drops a packet every spawn interval at a seeded place and speed, golden by seeded chance.
func (g *rain) Spawn(rt int64, rng *Rand, o *Object) bool {
	if rt%g.every != 0 {
		return false
	}
	o.X = rng.Range(g.r, g.w-g.r)
	o.Y = -g.r
	o.R = g.r
	o.VY = rng.Range(g.minV, g.maxV)
	o.Golden = int(rng.Uint64()%100) < g.golden
	// Gone once its top edge has left the bottom of the lane.
	o.Expire = rt + (int64(g.h+2*g.r)*int64(g.rate)+int64(o.VY)-1)/int64(o.VY) + 1
	return true
}

// Points is points for a red packet, golden_points for a golden one.
func (g *rain) Points(o *Object, rt int64) (int64, string) {
	if o.Golden {
		return g.goldenPoints, ReasonGolden
	}
	return g.points, ReasonPacket
}
