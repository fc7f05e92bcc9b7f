// Package render is the wall's window: App, an ebiten.Game, draws the scene the show hands it (a
// read-only view of the game) and passes the window's keys (by kernel key name) and mouse (in wall
// mm) to the show as a scene.Input; the show (a scene.Driver) turns them into game inputs and
// steps. Update lets the show change state; Draw only reads it. Importing this package links
// Ebiten, which needs an X display at init: only the window program (cmd/tapwall-wall) and tests
// run under xvfb-run import it.
package render

// View maps wall millimetres to window pixels: one uniform scale and an offset that centres the
// wall in the window (letterboxed). It is the only place where millimetres become pixels.
type View struct {
	Scale      float64 // pixels per millimetre
	OffX, OffY float64 // pixel position of the wall's top-left corner
}

// NewView fits a wallW x wallH mm wall into a winW x winH pixel window, keeping its aspect.
func NewView(wallW, wallH int32, winW, winH int) View {
	sx := float64(winW) / float64(wallW)
	sy := float64(winH) / float64(wallH)
	s := min(sx, sy)
	return View{Scale: s, OffX: (float64(winW) - s*float64(wallW)) / 2, OffY: (float64(winH) - s*float64(wallH)) / 2}
}

// Px returns the pixel position of wall point (x, y) mm.
func (v View) Px(x, y int32) (float64, float64) {
	return v.OffX + float64(x)*v.Scale, v.OffY + float64(y)*v.Scale
}

// Len returns a length in millimetres as pixels.
func (v View) Len(mm int32) float64 { return float64(mm) * v.Scale }

// MM returns the wall point under pixel (px, py), rounded to the nearest millimetre.
func (v View) MM(px, py float64) (int32, int32) {
	return int32((px-v.OffX)/v.Scale + 0.5), int32((py-v.OffY)/v.Scale + 0.5)
}
