// Package textproc turns the text of social posts, comments and search
// terms into what social insight counts: normalised tokens of Chinese
// (segmented with go-ego/gse and its embedded dictionary) and English.
package textproc
