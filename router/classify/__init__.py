"""Classification: the trained model, its training and its evaluation."""
