"""Time-ordered, leak-free rolling-origin backtests of the forecasting ladder."""
