package game

import "io"

// JournalOpener opens the journal for a new round; a nil writer (or nil opener) journals nothing.
type JournalOpener func(r *Round) (io.WriteCloser, error)

// Show is the live sequence of rounds on one wall: a start action when no round is in play begins
// the next round (numbered from 1, seeded from the show's seed and its number) with its countdown.
// It journals each round through the opener, closing the journal (summary written) the tick the
// round is over, and is a Stepper for the Loop. Between rounds it can show the attract screen: an
// autoplayed round with no number, no ScoreEvents and no journal. Everything it does is a function
// of its config and the inputs of each tick, so a standby fed the same ticks is the same show.
// Not safe for concurrent use.
type Show struct {
	cfg    *Config
	wall   string
	seed   uint64
	game   string
	number uint32
	tick   int64 // show ticks stepped
	rec    *Recorder
	jw     io.WriteCloser
	open   JournalOpener
	err    error
	events []ScoreEvent
	carry  []Input // inputs the next step of a new round starts with
	names  []string
	clock  func(tick int64) int64

	began     RoundParams // the round begun in the last Step, if beganOK
	beganOK   bool
	scheduled bool // Schedule was called for the coming Step
	expect    *RoundParams

	autoplay bool
	bot      *Bot
	botIn    []Input
	botFrom  int // botIn[botFrom:] are the player's inputs of the last Step (-1: none)

	attractOn bool   // the attract screen is asked for
	attract   *Round // its round, nil until it first plays
	attractN  uint64 // attract rounds played
	attractG  string // the game the attract round plays
	attractB  *Bot

	before  ShowBase // the state before the last Step
	rebased bool     // the last Step began a round or a new attract round: before is a base
	// kb is which lanes the keyboard drives: every takeover the show sees, in a round or between
	// rounds; a new round starts with these lanes in keyboard mode (journaled as its first inputs).
	kb [MaxLanes]bool
}

// ShowBase is a Show's state between two ticks, at a moment when no round or attract round is
// under way that it would have to describe: just before a tick that begins a round or a new attract
// round. With the inputs of every tick since (and the parameters of the rounds begun in them), a
// Show restored from it steps to exactly the same state: it is how a standby joins a running show.
type ShowBase struct {
	Tick      int64    `json:"tick"`               // show tick of the next Step
	Number    uint32   `json:"number"`             // the last round begun (0: none)
	Game      string   `json:"game"`               // the game the next round plays
	Names     []string `json:"names,omitempty"`    // contestants' names for the next round
	Keyboard  []int8   `json:"keyboard,omitempty"` // lanes in keyboard mode, carried into the next round
	AttractOn bool     `json:"attract_on"`
	AttractN  uint64   `json:"attract_n"` // attract rounds played
	Autoplay  bool     `json:"autoplay"`
}

// NewShow returns a show of cfg (validated) with no round yet; open may be nil. It starts on the
// attract screen when cfg.Show.Attract is set.
func NewShow(cfg *Config, open JournalOpener) *Show {
	return &Show{cfg: cfg, wall: cfg.Wall.ID, seed: cfg.Round.Seed, game: cfg.Round.Game, open: open,
		attractOn: cfg.Show.Attract, botIn: make([]Input, 0, 2*MaxLanes+64)}
}

// RestoreShow returns a show of cfg in the state base describes, with no round in play: stepped with
// the same inputs as the show base was taken from, it reaches the same state tick for tick.
func RestoreShow(cfg *Config, base ShowBase, open JournalOpener) (*Show, error) {
	if !KnownGame(base.Game) {
		return nil, errUnknownGame(base.Game)
	}
	if err := CheckNames(base.Names, len(cfg.Lanes)); err != nil {
		return nil, err
	}
	s := NewShow(cfg, open)
	s.tick, s.number, s.game, s.attractOn, s.attractN, s.autoplay = base.Tick, base.Number, base.Game, base.AttractOn, base.AttractN, base.Autoplay
	s.names = append([]string(nil), base.Names...)
	for _, l := range base.Keyboard {
		if l >= 0 && int(l) < len(cfg.Lanes) {
			s.kb[l] = true
		}
	}
	return s, nil
}

// Before returns the show's state as it was before the last Step when it is a base (the last Step
// began a round or a new attract round) that RestoreShow can start from, and whether it is; it
// returns the zero ShowBase otherwise. It allocates only for a base (called every tick).
func (s *Show) Before() (ShowBase, bool) {
	if !s.rebased {
		return ShowBase{}, false
	}
	b := s.before
	b.Names = append([]string(nil), b.Names...)
	b.Keyboard = append([]int8(nil), b.Keyboard...)
	return b, s.rebased
}

// saveBefore keeps the state before a Step, reusing its slices: it allocates nothing once warm.
func (s *Show) saveBefore() {
	b := &s.before
	b.Tick, b.Number, b.Game, b.AttractOn, b.AttractN, b.Autoplay = s.tick, s.number, s.game, s.attractOn, s.attractN, s.autoplay
	b.Names = append(b.Names[:0], s.names...)
	b.Keyboard = b.Keyboard[:0]
	for lane := range s.cfg.Lanes {
		if s.kb[lane] {
			b.Keyboard = append(b.Keyboard, int8(lane))
		}
	}
}

// Hash is a 64-bit hash of the show's state after the last Step: the show tick, the next game,
// and the attract screen's round when it is on, else the current round. A standby compares it with
// its primary's after every tick. The numbering of the next round is not in it: the backend may
// renumber the primary's next round at any time, and a standby takes each round's number from the
// primary's stream when the round begins.
func (s *Show) Hash() uint64 {
	h := fnvU64(fnvOffset64, uint64(s.tick))
	h = fnvU64(h, uint64(GameIndex(s.game)))
	if a, on := s.Attract(); on { // the last round is off the wall: only its keyboard lanes go on
		h = fnvU64(h, s.attractN)
		if a != nil {
			h = fnvU64(h, a.Hash())
		}
		return h
	}
	if s.rec != nil {
		h = fnvU64(h, s.rec.r.Hash())
	}
	return h
}

// RoundSeed derives round n's seed from the show's seed, so every round differs but a rerun of the
// show gives the same rounds.
func RoundSeed(showSeed uint64, n uint32) uint64 {
	r := Rand{State: showSeed ^ uint64(n)*0x9e3779b97f4a7c15}
	return r.Uint64()
}

// SetClock sets how a round's StartUS is chosen: f returns the show time (the backend's clock, µs)
// of show tick t. It is called once when a round begins; its answer is journaled in the round's
// header, so a replay never calls it. Without one, StartUS is t/rate seconds.
func (s *Show) SetClock(f func(tick int64) int64) { s.clock = f }

// SetAutoplay puts the built-in player in every lane of the rounds that begin from now on.
func (s *Show) SetAutoplay(on bool) { s.autoplay = on }

// Tick returns the number of ticks the show has stepped: the show tick of the next Step.
func (s *Show) Tick() int64 { return s.tick }

// Round returns the current round (nil before the first start). It changes only in Step.
func (s *Show) Round() *Round {
	if s.rec == nil {
		return nil
	}
	return s.rec.r
}

// Attract returns the attract screen's round while the attract screen is on the wall (it may be
// nil for the first tick), and whether the attract screen is on.
func (s *Show) Attract() (*Round, bool) {
	if !s.attractOn || s.inPlay() {
		return nil, false
	}
	return s.attract, true
}

// Number returns the number of the last round begun (0 before the first).
func (s *Show) Number() uint32 { return s.number }

// Names returns the contestants' names the next round begins with.
func (s *Show) Names() []string { return s.names }

// Err returns, and clears, the last journal error: the show goes on without its journal.
func (s *Show) Err() error {
	err := s.err
	s.err = nil
	return err
}

// Events returns the ScoreEvents of the last Step.
func (s *Show) Events() []ScoreEvent { return s.events }

// Game returns the game the next round will play.
func (s *Show) Game() string { return s.game }

// SetGame chooses the game of the next round.
func (s *Show) SetGame(name string) error {
	if !KnownGame(name) {
		return errUnknownGame(name)
	}
	s.game = name
	return nil
}

// BotInputs returns the touches the autoplay player made in the last Step of a round (journaled
// with source "bot"); the attract screen's are not included. Valid until the next Step.
func (s *Show) BotInputs() []Input {
	if s.botFrom < 0 {
		return nil
	}
	return s.botIn[s.botFrom:]
}

// Began returns the parameters of the round begun in the last Step (by a start action or by
// Schedule), and whether one began.
func (s *Show) Began() (RoundParams, bool) { return s.began, s.beganOK }

// Expect makes the next round begun in the next Step take exactly p's number, seed, game, countdown,
// StartUS and names, instead of choosing them: a standby replays the round its primary began. Like
// Schedule, it refuses a game it does not know or names the wall cannot take (p comes from another
// process: a round begun with them could not be built), and then expects nothing.
func (s *Show) Expect(p RoundParams) error {
	if err := s.checkRound(p); err != nil {
		return err
	}
	s.expect = &p
	return nil
}

// checkRound checks what a round begun with p's game and names needs.
func (s *Show) checkRound(p RoundParams) error {
	if !KnownGame(p.Game) {
		return errUnknownGame(p.Game)
	}
	return CheckNames(p.Names, len(s.cfg.Lanes))
}

// inPlay reports whether a round is in play (begun and not over).
func (s *Show) inPlay() bool { return s.rec != nil && !s.rec.r.Phase().Over() }

// Step applies one tick of inputs: a start with no round in play first opens the next round.
func (s *Show) Step(in []Input) {
	s.botFrom = -1
	s.saveBefore()
	attractN := s.attractN
	s.events = nil
	if !s.scheduled {
		s.beganOK = false
	}
	s.scheduled = false
	for i := range in {
		switch in[i].Kind {
		case KindGame:
			if in[i].Value >= 0 && int(in[i].Value) < len(Games) {
				s.game = Games[in[i].Value]
			}
		case KindNames:
			s.names = append(s.names[:0], in[i].Names...)
		case KindAttract:
			if !s.inPlay() {
				s.attractOn = true
			}
		case KindTakeover:
			if in[i].Lane >= 0 && int(in[i].Lane) < len(s.cfg.Lanes) {
				s.kb[in[i].Lane] = in[i].Value != 0
			}
		}
	}
	for i := range in {
		if in[i].Kind == KindStart && !s.inPlay() {
			s.nextRound()
			break
		}
	}
	if !s.inPlay() && s.attractOn {
		s.stepAttract()
	}
	if s.rec != nil {
		s.stepRound(in)
	}
	s.expect = nil
	s.rebased = s.beganOK || s.attractN != attractN
	s.tick++
}

func (s *Show) stepRound(in []Input) {
	if len(s.carry) > 0 {
		in = append(s.carry, in...)
		s.carry = s.carry[:0]
	}
	if s.bot != nil && !s.rec.r.Phase().Over() {
		s.botIn = s.bot.Inputs(s.rec.r, append(s.botIn[:0], in...))
		s.botFrom = len(in)
		in = s.botIn
	}
	s.rec.Step(in)
	s.events = s.rec.r.Events()
	if err := s.rec.Err(); err != nil && s.err == nil {
		s.err = err
	}
	if s.rec.r.Phase().Over() && s.jw != nil {
		s.Close() // the summary and the fsync the moment the round is over
	}
}

// stepAttract steps the attract screen's round: autoplayed, restarted when it ends or when the
// next game changes, never journaled, its scores never leave it.
func (s *Show) stepAttract() {
	if s.attract == nil || s.attract.Phase().Over() || s.attractG != s.game {
		s.attractN++
		s.attractG = s.game
		seed := RoundSeed(s.seed^0xa77ac7, uint32(s.attractN))
		s.attract, _ = NewRound(s.cfg, RoundParams{Wall: s.wall, Seed: seed, Game: s.game, Running: true})
		s.attractB = NewBot(s.cfg, seed)
	}
	s.botIn = s.attractB.Inputs(s.attract, s.botIn[:0])
	s.attract.Step(s.botIn)
}

func (s *Show) nextRound() {
	s.begin(RoundParams{Wall: s.wall, Round: s.number + 1, Seed: RoundSeed(s.seed, s.number+1), Game: s.game})
}

// Schedule begins round p in the coming Step, ending whatever round is in play (its journal
// closed), with its countdown running so that its running tick 0 comes p.Countdown ticks after the
// next one; a Countdown of 0 or less starts it running at once. It is how a backend's start command
// for a given show time lands: call it just before the Step of the tick it applies in. Later rounds
// are numbered after it.
func (s *Show) Schedule(p RoundParams) error {
	if err := s.checkRound(p); err != nil {
		return err
	}
	p.Wall = s.wall
	if p.Countdown <= 0 {
		p.Countdown, p.Running = 0, true
	}
	if p.Names != nil { // the next rounds' names too; without any, begin takes the show's
		s.names = append(s.names[:0], p.Names...)
	}
	s.begin(p)
	s.scheduled = true
	return nil
}

// SetNextRound makes the next round started with a start action number n (a restarted show
// continues after the rounds the backend or the journals already have).
func (s *Show) SetNextRound(n uint32) {
	if n > 0 {
		s.number = n - 1
	}
}

func (s *Show) begin(p RoundParams) {
	s.Close()
	if p.Names == nil {
		p.Names = s.names
	}
	p.Names = append([]string(nil), p.Names...)
	switch {
	case s.expect != nil:
		e := *s.expect
		p.Round, p.Seed, p.Game, p.Countdown, p.Running, p.StartUS, p.Names = e.Round, e.Seed, e.Game, e.Countdown, e.Running, e.StartUS, e.Names
	case s.clock != nil:
		p.StartUS = s.clock(s.tick)
	default:
		p.StartUS = s.tick * 1_000_000 / int64(s.cfg.Round.TickRate)
	}
	s.number = p.Round
	s.attractOn, s.attract = false, nil // a later attract screen starts a fresh attract round
	r, err := NewRound(s.cfg, p)
	if err != nil { // the game name was checked and the config validated: misuse
		panic(err)
	}
	s.began, s.beganOK = r.Params(), true
	s.carry = s.carry[:0]
	for lane := range s.cfg.Lanes { // a lane driven by keyboard stays so in the next round (journaled)
		if s.kb[lane] {
			s.carry = append(s.carry, Input{Kind: KindTakeover, Source: SourceKeyboard, Lane: int8(lane), Value: 1})
		}
	}
	s.bot = nil
	if s.autoplay {
		s.bot = NewBot(s.cfg, p.Seed)
	}
	var w io.Writer
	s.jw = nil
	if s.open != nil {
		jw, err := s.open(r)
		if err != nil {
			s.err = err
		} else if jw != nil {
			s.jw, w = jw, jw
		}
	}
	s.rec, err = NewRecorder(w, r, s.cfg.Loop.HashEvery, true)
	if err != nil {
		s.err = err
		s.rec, _ = NewRecorder(nil, r, s.cfg.Loop.HashEvery, true)
	}
}

// Close ends the current round's journal with its summary. The round itself stays visible.
func (s *Show) Close() error {
	if s.rec == nil || s.jw == nil {
		return nil
	}
	err := s.rec.Close()
	if cerr := s.jw.Close(); err == nil && cerr != nil {
		err = cerr
	}
	s.jw = nil
	if err != nil {
		s.err = err
	}
	return err
}
