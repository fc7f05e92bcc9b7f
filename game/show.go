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
	s.rec.Step(in)
	s.events = s.rec.r.Events()
	if err := s.rec.Err(); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *Show) nextRound() {
	s.Close()
	s.number++
	r, err := NewRound(s.cfg, RoundParams{Wall: s.wall, Round: s.number, Seed: RoundSeed(s.seed, s.number), Game: s.game})
	if err != nil { // the game name was checked in SetGame and the config validated: misuse
		panic(err)
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
