import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.alberttf.demo"
    compileSdk = 36

    defaultConfig {
        applicationId = "org.alberttf.demo"
        minSdk = 24
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            signingConfig = signingConfigs.getByName("debug") // a demo: installable without a keystore
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures {
        viewBinding = true
    }

    // MediaPipe memory-maps model.tflite straight out of the APK; a compressed asset cannot be
    // mapped and fails to load, so keep .tflite files stored uncompressed.
    androidResources {
        noCompress += "tflite"
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    implementation(project(":core"))
    implementation("com.google.mediapipe:tasks-text:0.10.29")
    implementation("androidx.appcompat:appcompat:1.7.1")
    implementation("androidx.core:core-ktx:1.16.0")
    implementation("androidx.activity:activity-ktx:1.10.1")
    implementation("androidx.lifecycle:lifecycle-runtime-ktx:2.9.2")
    implementation("com.google.android.material:material:1.12.0")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
}

// ---- Bundle -> assets ------------------------------------------------------------------------
// The app reads exactly these three files (docs/CONTRACTS.md section 3); the tokenizer file (spiece.model
// or vocab.txt) is not needed on the phone because model.tflite carries it in its metadata.
val bundleFiles = listOf("model.tflite", "manifest.json", "labels.txt")
val bundleDir: File = rootProject.file(providers.gradleProperty("bundleDir").getOrElse("../runs/demo/bundle"))
val assetsDir = layout.projectDirectory.dir("src/main/assets")

val copyBundle by tasks.registering(Copy::class) {
    group = "albert-tf"
    description = "Copies model.tflite, manifest.json and labels.txt of an exported bundle " +
        "(-PbundleDir=..., default ../runs/demo/bundle) into app/src/main/assets."
    from(bundleDir) { include(bundleFiles) }
    into(assetsDir)
    doFirst {
        val missing = bundleFiles.filterNot { File(bundleDir, it).isFile }
        if (missing.isNotEmpty()) {
            throw GradleException(
                "Bundle folder $bundleDir lacks ${missing.joinToString()}: run `make demo` in the " +
                    "albert-tf checkout (writes runs/demo/bundle/) or pass -PbundleDir=/path/to/bundle."
            )
        }
    }
}

// Keep the assets fresh when a bundle is there; without one the build still succeeds and the
// app explains on screen which files are missing.
if (bundleDir.isDirectory) {
    tasks.named("preBuild") { dependsOn(copyBundle) }
}
