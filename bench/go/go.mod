module chanlab/bench/go

go 1.19
