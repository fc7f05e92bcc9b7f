package main

import (
	bolt "go.etcd.io/bbolt"
)

// corruptOneEvent replaces the first stored event of the store at db with bytes that are not JSON.
func corruptOneEvent(db string) error {
	d, err := bolt.Open(db, 0o600, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Update(func(tx *bolt.Tx) error {
		wb := tx.Bucket([]byte("events")).Bucket([]byte("stage"))
		rk, _ := wb.Cursor().First()
		rb := wb.Bucket(rk)
		k, _ := rb.Cursor().First()
		return rb.Put(k, []byte("{not json"))
	})
}
