// Plain JVM library: no Android classes, so CI compiles and tests it with a bare JDK
// (tests/test_android_core.py does the same with javac). Java 11 language level and no
// java.nio.file / List.of in main sources, because the app runs it on API 24.
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_11
    targetCompatibility = JavaVersion.VERSION_11
}

tasks.withType<JavaCompile>().configureEach {
    options.compilerArgs.addAll(listOf("-Xlint:all", "-Werror"))
}

// The tests are a main() runner (no JUnit: the CI machines reach no Maven repository), so the
// standard `test` task has nothing to discover; `coreTests` runs them and `check` depends on it.
tasks.named<Test>("test") { enabled = false }

val coreTests by tasks.registering(JavaExec::class) {
    group = "verification"
    description = "Runs org.alberttf.demo.core.CoreTests (exits non-zero on a failure)."
    classpath = sourceSets["test"].runtimeClasspath
    mainClass.set("org.alberttf.demo.core.CoreTests")
}
tasks.named("check") { dependsOn(coreTests) }

// `./gradlew :core:inspectBundle` checks a bundle folder the way the app checks its assets.
tasks.register<JavaExec>("inspectBundle") {
    group = "albert-tf"
    description = "Checks manifest.json, labels.txt and sha256 of a bundle (-PbundleDir=...)."
    classpath = sourceSets["main"].runtimeClasspath
    mainClass.set("org.alberttf.demo.core.BundleInspector")
    args(rootProject.file(providers.gradleProperty("bundleDir").get()).path)
}
