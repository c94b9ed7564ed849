print("bench-gpu placeholder")
