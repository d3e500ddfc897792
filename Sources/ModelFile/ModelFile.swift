// ModelFile module.
