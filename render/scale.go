package render

import "tapwall/game"

// The render scale (render.scale): the wall is drawn into an image that fraction of the window's
// size and scaled up, which divides the GPU's fill work by the square of it. "auto" measures every
// frame's time (from one Draw to the next, on the show clock) against the frame budget 1/min_fps:
//   - lower: when at least autoMissShare of the last autoWindow frames were over budget, the scale
//     drops by one step (x autoStep), never below MinScale;
//   - raise: after autoCalmFrames frames in a row within autoCalmShare of the budget, it rises by
//     one step, never above 1. A raise that is undone within autoCalmFrames doubles the calm needed
//     before the next raise (up to 16 times), so a wall at the edge of its budget settles instead
//     of flickering between two scales.
//
// The scale in use is reported with every frame (Driver.Drawn). Screenshots are always at scale 1.
const (
	// MinScale is the lowest render scale.
	MinScale = 0.25
	// autoStep is the factor of one step down (its inverse, up).
	autoStep = 0.8
	// autoWindow is how many frames the lowering rule looks at.
	autoWindow = 30
	// autoMissShare is the share of them over budget that lowers the scale.
	autoMissShare = 1.0 / 3
	// autoCalmFrames is how many frames in a row must be calm before the scale rises.
	autoCalmFrames = 180
	// autoCalmShare is how far within the budget a calm frame is.
	autoCalmShare = 0.6
)

// scaler chooses each frame's render scale.
type scaler struct {
	auto    bool
	cur     float64
	budget  int64 // µs a frame may take: 1/min_fps
	last    int64 // show time of the last frame, 0 before the first
	n, miss int   // frames in the current window, and those over budget
	calm    int   // calm frames in a row
	need    int   // calm frames needed to raise
	raised  int   // frames since the last raise (-1: none pending)
}

func newScaler(rc game.RenderConfig) scaler {
	s := scaler{auto: rc.Scale.Auto, cur: rc.Scale.Fixed, need: autoCalmFrames, raised: -1}
	if s.auto || s.cur <= 0 {
		s.cur = 1
	}
	s.cur = min(1, max(MinScale, s.cur))
	fps := rc.MinFPS
	if fps <= 0 {
		fps = game.DefaultMinFPS
	}
	s.budget = 1_000_000 / int64(fps)
	return s
}

// frame records a frame drawn at show time now and returns the scale to draw it at.
func (s *scaler) frame(now int64) float64 {
	if !s.auto {
		return s.cur
	}
	if s.last == 0 {
		s.last = now
		return s.cur
	}
	dt := now - s.last
	s.last = now
	if s.raised >= 0 {
		s.raised++
		if s.raised > autoCalmFrames {
			s.raised = -1 // the raise held
		}
	}
	s.n++
	if dt > s.budget {
		s.miss++
		s.calm = 0
	} else if float64(dt) <= autoCalmShare*float64(s.budget) {
		s.calm++
	} else {
		s.calm = 0
	}
	if s.n >= autoWindow {
		if float64(s.miss) >= autoMissShare*float64(s.n) && s.cur > MinScale {
			s.cur = max(MinScale, s.cur*autoStep)
			s.calm = 0
			if s.raised >= 0 { // the last raise did not hold: be slower to raise again
				s.need = min(s.need*2, 16*autoCalmFrames)
				s.raised = -1
			}
		}
		s.n, s.miss = 0, 0
	}
	if s.calm >= s.need && s.cur < 1 {
		s.cur = min(1, s.cur/autoStep)
		if s.cur > 0.995 {
			s.cur = 1
		}
		s.calm = 0
		s.raised = 0
	}
	return s.cur
}
