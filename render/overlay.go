package render

import (
	"image/color"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"tapwall/render/scene"
)

// Colours of the operator's corner strip (operator.on_wall = "corner", rehearsals only).
var (
	ColKeyboard = color.RGBA{0x30, 0xc0, 0x50, 0xff}
	ColCursor   = color.RGBA{0xff, 0x40, 0xff, 0xff}
	ColSelected = color.RGBA{0xff, 0xff, 0x00, 0xff}
	ColHUD      = color.RGBA{0x00, 0x00, 0x00, 0xc0}
)

// drawOverlay draws the operator's corner strip: keyboard lanes' frames and cursors, the selected
// lane, and in the bottom-left corner the status lines, alarms, the prompt and, with the HUD, the
// key help. It is for single-screen rehearsals only, so it draws its changing lines with the text
// package directly (it allocates; a show wall never draws it).
func (a *App) drawOverlay(dst *ebiten.Image, op *scene.Overlay) {
	L, sh := a.lay, a.b
	v := L.View
	for i, ll := range L.Lanes {
		r := ll.Lane
		if i < len(op.Keyboard) && op.Keyboard[i] {
			kc := toRGBA(ColKeyboard)
			t := 6.0
			sh.rect(dst, r.X0+4, r.Y0+4, r.X1-4, r.Y0+4+t, kc, kc)
			sh.rect(dst, r.X0+4, r.Y1-4-t, r.X1-4, r.Y1-4, kc, kc)
			sh.rect(dst, r.X0+4, r.Y0+4, r.X0+4+t, r.Y1-4, kc, kc)
			sh.rect(dst, r.X1-4-t, r.Y0+4, r.X1-4, r.Y1-4, kc, kc)
			if i < len(op.Cursors) {
				px, py := v.Px(op.Cursors[i][0], op.Cursors[i][1])
				arm := v.Len(120)
				cc := toRGBA(ColCursor)
				sh.rect(dst, px-arm, py-1.5, px+arm, py+1.5, cc, cc)
				sh.rect(dst, px-1.5, py-arm, px+1.5, py+arm, cc, cc)
			}
		}
		if i == op.Selected {
			sc := toRGBA(ColSelected)
			sh.rect(dst, r.X0+1, r.Y0+1, r.X1-1, r.Y0+5, sc, sc)
		}
	}
	n := len(op.Lines) + len(op.Alarms) + len(op.Help)
	if op.Prompt != "" {
		n++
	}
	size := L.Overlay
	h := float64(n)*size*1.3 + size
	y0 := L.Wall.Y1 - h
	face := &text.GoTextFace{Source: a.fonts.mono, Size: math.Max(6, size)}
	w := size * 36
	for _, group := range [][]string{op.Lines, op.Alarms, op.Help, {op.Prompt}} {
		for _, l := range group {
			w = max(w, text.Advance(l, face)+size)
		}
	}
	hud := toRGBA(ColHUD)
	sh.rect(dst, L.Wall.X0, y0, math.Min(L.Wall.X0+w, L.Wall.X1), L.Wall.Y1, hud, hud)
	sh.flush(dst)
	y := y0 + size/2
	line := func(s string, c color.Color) {
		var o text.DrawOptions
		o.GeoM.Translate(L.Wall.X0+size/2, y)
		o.ColorScale.ScaleWithColor(c)
		text.Draw(dst, s, face, &o)
		y += size * 1.3
	}
	for _, l := range op.Lines {
		line(l, ColText)
	}
	for _, l := range op.Alarms {
		line(l, ColAlarm)
	}
	if op.Prompt != "" {
		line(op.Prompt, ColSelected)
	}
	for _, l := range op.Help {
		line(l, ColText)
	}
}

// drawCrosshair draws a calibration crosshair at (xmm, ymm) on the wall and the instruction in the
// middle of the wall.
func (a *App) drawCrosshair(dst *ebiten.Image, xmm, ymm float64, label string) {
	L, sh := a.lay, a.b
	v := L.View
	px, py := v.OffX+xmm*v.Scale, v.OffY+ymm*v.Scale
	arm := v.Len(150)
	c := toRGBA(ColAlarm)
	sh.rect(dst, px-arm, py-1.5, px+arm, py+1.5, c, c)
	sh.rect(dst, px-1.5, py-arm, px+1.5, py+arm, c, c)
	sh.ring(dst, px, py, arm/2, 2, c, false)
	sh.flush(dst)
	sl := Slot{Box: Rect{L.Wall.X0 + L.Wall.W()*0.05, L.Wall.Y0 + L.Wall.H()*0.45, L.Wall.X1 - L.Wall.W()*0.05, L.Wall.Y0 + L.Wall.H()*0.55}, Size: L.Unit * 1.6, Font: FontBold}
	a.labels.dst = dst
	a.labels.get(sl, label).draw(sh, dst, sl.Box.X0, sl.Box.Y0, 1, white)
	sh.flush(dst)
}
