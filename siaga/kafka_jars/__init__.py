"""Maven pom (and log4j2 config) of the local Apache Kafka broker; see siaga/apache_kafka.py."""
