package game

import "io"

// JournalOpener opens the journal for a new round; a nil writer (or nil opener) journals nothing.
type JournalOpener func(r *Round) (io.WriteCloser, error)

// Show is the live sequence of rounds on one wall: a start action when no round is in play begins
// the next round (numbered from 1, seeded from the show's seed and its number) with its countdown.
// It journals each round through the opener and is a Stepper for the Loop. Not safe for concurrent use.
type Show struct {
	cfg    *Config
	wall   string
	seed   uint64
	game   string
	number uint32
	rec    *Recorder
	jw     io.WriteCloser
	open   JournalOpener
	err    error
	events []ScoreEvent
	carry  []Input // inputs the next step of a new round starts with
}

// NewShow returns a show of cfg (validated) with no round yet; open may be nil.
func NewShow(cfg *Config, open JournalOpener) *Show {
	return &Show{cfg: cfg, wall: cfg.Wall.ID, seed: cfg.Round.Seed, game: cfg.Round.Game, open: open}
}

// RoundSeed derives round n's seed from the show's seed, so every round differs but a rerun of the
// show gives the same rounds.
func RoundSeed(showSeed uint64, n uint32) uint64 {
	r := Rand{State: showSeed ^ uint64(n)*0x9e3779b97f4a7c15}
	return r.Uint64()
}

// Round returns the current round (nil before the first start). It changes only in Step.
func (s *Show) Round() *Round {
	if s.rec == nil {
		return nil
	}
	return s.rec.r
}

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

// Step applies one tick of inputs: a start with no round in play first opens the next round.
func (s *Show) Step(in []Input) {
	s.events = nil
	for i := range in {
		if in[i].Kind == KindGame && in[i].Value >= 0 && int(in[i].Value) < len(Games) {
			s.game = Games[in[i].Value]
		}
	}
	for i := range in {
		if in[i].Kind == KindStart && (s.rec == nil || s.rec.r.Phase().Over()) {
			s.nextRound()
			break
		}
	}
	if s.rec == nil {
		return
	}
	if len(s.carry) > 0 {
		in = append(s.carry, in...)
		s.carry = s.carry[:0]
	}
	s.rec.Step(in)
	s.events = s.rec.r.Events()
	if err := s.rec.Err(); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *Show) nextRound() {
	s.begin(RoundParams{Wall: s.wall, Round: s.number + 1, Seed: RoundSeed(s.seed, s.number+1), Game: s.game})
}

// Schedule begins round p now, ending whatever round is in play (its journal closed), with its
// countdown running so that its running tick 0 comes p.Countdown ticks after the next one; a
// Countdown of 0 or less starts it running at once. It is how a backend's start command for a
// given show time lands; later rounds are numbered after it.
func (s *Show) Schedule(p RoundParams) error {
	if !KnownGame(p.Game) {
		return errUnknownGame(p.Game)
	}
	p.Wall = s.wall
	if p.Countdown <= 0 {
		p.Countdown, p.Running = 0, true
	}
	s.begin(p)
	return nil
}

// SetNextRound makes the next round started with a start action number n (a restarted show
// continues after the rounds the backend already has).
func (s *Show) SetNextRound(n uint32) {
	if n > 0 {
		s.number = n - 1
	}
}

func (s *Show) begin(p RoundParams) {
	s.Close()
	var prev *Round
	if s.rec != nil {
		prev = s.rec.r
	}
	s.number = p.Round
	r, err := NewRound(s.cfg, p)
	if err != nil { // the game name was checked and the config validated: misuse
		panic(err)
	}
	s.carry = s.carry[:0]
	if prev != nil { // a lane driven by keyboard stays so in the next round (journaled as inputs)
		for lane := range s.cfg.Lanes {
			if prev.Takeover(lane) {
				s.carry = append(s.carry, Input{Kind: KindTakeover, Source: SourceKeyboard, Lane: int8(lane), Value: 1})
			}
		}
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
