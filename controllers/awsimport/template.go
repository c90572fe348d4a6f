package awsimport

import "errors"

func importTemplate(data []byte, opts Options) (*Result, error) {
	return nil, errors.New("templates: not yet")
}
