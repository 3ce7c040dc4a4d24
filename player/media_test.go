package player

func cleanupMedia() {}
