"""The commands of the application, one mixin per subject: staff, programmes, results."""
