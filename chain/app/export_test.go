package app

// NewWithModules lets the external tests compose the application with
// modules of their own (production composes Modules() only).
var NewWithModules = newApp
