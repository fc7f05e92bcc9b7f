// Package input turns raw touch frames and keyboards into game inputs: it decodes evdev
// multi-touch streams, maps each frame onto the wall in millimetres, joins contacts across seams,
// filters faults and routes contacts to lanes.
package input
