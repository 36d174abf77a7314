module github.com/mailtriage/mailtriage

go 1.26.8

require go.yaml.in/yaml/v3 v3.0.6

require github.com/BurntSushi/toml v1.6.0 // indirect
