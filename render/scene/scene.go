// Package scene is the contract between the show and the window: what the wall shows at one
// instant (Scene), what the window read from its keyboard and mouse (Input), and the Driver the
// window calls once per frame. It is plain data with no Ebiten, so the show runner that fills it
// builds and tests without a display, and the render package that draws it never reaches into the
// show.
package scene

import "tapwall/game"

// Scene is what the wall shows now. It is valid on the frame goroutine until the next call of
// Driver.Frame; render only reads it. Everything on it is the show's state (pointers into it, not
// copies), plus the operator overlay when operator.on_wall asks for one.
type Scene struct {
	Config *game.Config
	// Round is the round on the wall: the current one (nil before the first), or the attract
	// screen's round when Attract is set.
	Round *game.Round
	// Attract: the attract screen is on the wall (title, next game, Round autoplayed behind).
	Attract bool
	// NextGame is the game the next round plays, for the attract screen.
	NextGame string
	// Frac is how far the show clock is into the tick after the last one stepped, as a fraction
	// 0..1 of a tick. Animations run on show time, not frames: something that happened in round
	// tick t is (Round.Tick() - t + Frac) ticks old. Screenshots use 0.
	Frac float64
	// Touches are the contacts down on the wall at their newest known position (drawn markers);
	// screenshots use the stepped state only (the round's contacts).
	Touches []Touch
	// Overlay is the operator's corner strip (operator.on_wall = "corner"); nil on a show wall.
	Overlay *Overlay
}

// Touch is one contact down on the wall.
type Touch struct {
	ID       int32
	XMM, YMM int32
	Lane     int8 // -1: outside every lane
}

// Overlay is what a single-screen rehearsal shows of the operator's state in one corner.
type Overlay struct {
	Lines    []string   // status lines (HUD when shown)
	Alarms   []string   // standing alarms
	Prompt   string     // a question waiting for confirmation
	Selected int        // the keyboard's selected lane
	Keyboard []bool     // per lane: in keyboard mode
	Cursors  [][2]int32 // per lane: the keyboard cursor in wall mm
	Help     []string   // key help, when the HUD is shown
}

// Key is one key press or release in the window, by kernel key name ("KEY_SPACE").
type Key struct {
	Name    string
	Pressed bool
}

// Input is what the window read since the last frame. The window stamps it with the frame's poll
// time: Ebiten gives no event time, so window keys and the mouse carry up to a frame of extra
// latency (desk keyboards and touch frames keep their kernel timestamps).
type Input struct {
	Keys []Key
	// Mouse in wall mm; MouseIn: the pointer is over the wall; MouseDown: the left button is held.
	MouseXMM, MouseYMM int32
	MouseIn, MouseDown bool
	// Close: the window's close button was pressed (the show asks the operator to confirm).
	Close bool
}

// Driver is the show as the window sees it. Every method is called on the frame goroutine.
type Driver interface {
	// Frame hands over this frame's window input, stamped with show time now, and steps the
	// show to now. It returns false once the show is over (quit, or --exit-after-ticks reached).
	Frame(now int64, in *Input) bool
	// Scene returns what to draw for show time now.
	Scene(now int64) *Scene
	// Shot reports whether the frame to draw now is the screenshot (state after the last tick of
	// --exit-after-ticks, Frac 0, scale 1) and where to write it.
	Shot() (path string, ok bool)
	// Drawn tells the show a frame was drawn at show time now (the time passed to Scene): the
	// frame rate and the frozen-frame alarm count from it, and the inputs the frame shows count
	// as presented at the show time it was stepped to (input-to-frame latency; the GPU's swap and
	// the display's scan-out add up to a frame on top with vsync). scale is the render scale it
	// was drawn at; err is the screenshot's write error, if any.
	Drawn(now int64, scale float64, err error)
}
